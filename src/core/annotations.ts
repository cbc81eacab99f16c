/** The ServiceAccount annotations the EKS Pod Identity webhook reads for IRSA (pod-identity-facts.md). */
export const ROLE_ARN_ANNOTATION = 'eks.amazonaws.com/role-arn';
export const AUDIENCE_ANNOTATION = 'eks.amazonaws.com/audience';
/** The token audience when AUDIENCE_ANNOTATION is absent: what the webhook projects and IRSA trust policies check. */
export const DEFAULT_AUDIENCE = 'sts.amazonaws.com';
export const STS_REGIONAL_ENDPOINTS_ANNOTATION = 'eks.amazonaws.com/sts-regional-endpoints';
export const TOKEN_EXPIRATION_ANNOTATION = 'eks.amazonaws.com/token-expiration';
