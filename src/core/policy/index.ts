/** The trust-policy model: parse, serialise, compare, evaluate and edit IAM role trust policies. */
export type { ActionSet, ConditionEntry, Effect, JsonObject, JsonValue, PrincipalSet, PrincipalType, Statement, TrustPolicy } from './types.js';
export { PRINCIPAL_TYPES, PolicyEditError, PolicyParseError } from './types.js';
export { parsePolicy, parseStatement } from './parse.js';
export { policyLength, policyToJson, serializePolicy, serializePolicyCompact, withStatements } from './serialize.js';
export { policiesEqual, statementFingerprint, statementsEqual } from './compare.js';
export type { ParsedOperator, RequestValue, SetQualifier } from './conditions.js';
export { actionMatches, evaluateCondition, hasWildcard, isEvaluableOperator, matchPattern, matchesStringCondition, parseOperator } from './conditions.js';
export type { StatementMatch, Tri, TrustRequest } from './evaluate.js';
export { conditionsForKey, evaluateConditions, isNotPrincipalAllow, matchStatement, principalMatches, principalSetIncludes, statementCoversAction } from './evaluate.js';
export type { PodIdentityRequestInput } from './requests.js';
export {
  ASSUME_ROLE_ACTION,
  POD_IDENTITY_SERVICE,
  POD_IDENTITY_SESSION_TAGS,
  TAG_SESSION_ACTION,
  WEB_IDENTITY_ACTION,
  podIdentityRequests,
  serviceAccountSubject,
  webIdentityRequest,
} from './requests.js';
export type { AddPodIdentityTrustResult, PodIdentitySubject, PodIdentityTrustTarget, SubjectRectangle } from './dual-trust.js';
export {
  CLUSTER_TAG_KEY, NAMESPACE_TAG_KEY, POD_IDENTITY_SID, SERVICE_ACCOUNT_TAG_KEY, SOURCE_ACCOUNT_KEY, addPodIdentityTrust, admitsRequests, compareSubjects, deniesRequests,
  encodeSubjects, isPodIdentityGrant, podIdentityStatement, statementRectangle, subjectKey, subjectRequests,
} from './dual-trust.js';
export type { AccessCluster, IrsaGrant, OtherGrant, PodIdentityGrant, RoleAccess, WideningCheck } from './access.js';
export { admitsIrsaTwin, checkNoWidening, podIdentityAdmits, roleAccess } from './access.js';
export type { OidcRemovalStep, OidcTrustTarget, RemoveOidcTrustResult } from './remove-oidc-trust.js';
export { removeOidcTrust } from './remove-oidc-trust.js';
