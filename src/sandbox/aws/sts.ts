/**
 * The sandbox's STS: GetCallerIdentity, which podid uses to learn the account it runs in.
 * The identity is the world's `caller.arn` (or a sandbox user in the world's account).
 */
import { stableId, type SandboxState } from '../state.js';
import type { AwsServiceModule } from './common.js';
import { createQueryService } from './query.js';

export const STS_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';
export const STS_VERSION = '2011-06-15';

export interface CallerIdentity {
  account: string;
  arn: string;
  userId: string;
}

/** Who the sandbox says is calling: the world's `caller.arn`, else `user/sandbox` in the world's account. */
export function callerIdentity(state: SandboxState): CallerIdentity {
  const { account, partition } = state.settings;
  const arn = state.caller?.arn ?? `arn:${partition}:iam::${account}:user/sandbox`;
  return { account, arn, userId: userIdFor(arn) };
}

/**
 * STS's UserId: `AIDA...` for IAM users, `AROA...:<session>` for assumed roles (the role's
 * unique id, then the session name), the account id for the root user.
 */
function userIdFor(arn: string): string {
  const assumed = /^arn:[^:]+:sts::(\d+):assumed-role\/(.+)\/([^/]+)$/.exec(arn);
  if (assumed) return `${stableId('AROA', `${assumed[1]}:${assumed[2]}`)}:${assumed[3]}`;
  const root = /^arn:[^:]+:iam::(\d+):root$/.exec(arn);
  if (root) return root[1]!;
  return stableId('AIDA', arn);
}

export function createStsService(state: SandboxState): AwsServiceModule {
  return createQueryService({
    namespace: STS_NAMESPACE,
    version: STS_VERSION,
    internalErrorCode: 'InternalFailure',
    operations: {
      GetCallerIdentity: {
        mutating: false,
        handler: () => {
          const id = callerIdentity(state);
          return { UserId: id.userId, Account: id.account, Arn: id.arn };
        },
      },
    },
  });
}
