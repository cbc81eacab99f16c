/** The trust-policy model: parse, serialise, compare, evaluate and edit IAM role trust policies. */
export type { JsonObject, PrincipalType, TrustPolicy } from './types.js';
export { PolicyEditError, PolicyParseError } from './types.js';
export { parsePolicy, parsePolicyOnce, parseStatement } from './parse.js';
export { policyLength, policyToJson, serializePolicy, withStatements } from './serialize.js';
export { policiesEqual, statementsEqual } from './compare.js';
export type { RequestValue } from './conditions.js';
export { actionMatches, evaluateCondition, matchesStringCondition, parseOperator } from './conditions.js';
export type { TrustRequest } from './evaluate.js';
export { isNotPrincipalAllow, matchStatement, statementApplies } from './evaluate.js';
export { POD_IDENTITY_SERVICE, podIdentityRequests } from './requests.js';
export type { PodIdentitySubject } from './dual-trust.js';
export { POD_IDENTITY_SID, addPodIdentityTrust, admitsRequests, deniesRequests, encodeSubjects, podIdentityStatement, subjectKey, subjectRequests } from './dual-trust.js';
export type { AccessCluster } from './access.js';
export { admitsIrsaTwin, checkNoWidening, irsaAudiences, podIdentityAdmits, roleAccess } from './access.js';
export { removeOidcTrust, type OidcTrustTarget } from './remove-oidc-trust.js';
