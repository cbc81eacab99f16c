/**
 * The parts of @kubernetes/client-node podid uses, in the one module the Kubernetes adapters load
 * lazily. Named re-exports rather than a namespace import of the package: a bundler that inlines
 * client-node then keeps these and what they reach, not every generated model and API (loading
 * the whole package is most of a live scan's start-up).
 */
export { KubeConfig } from '@kubernetes/client-node';
