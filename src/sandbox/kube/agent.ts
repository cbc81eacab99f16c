/** The eks-pod-identity-agent DaemonSet the EKS add-on installs in kube-system. */
import type { ClusterState } from '../state.js';
import type { JsonObject } from '../world-types.js';

export const AGENT = 'eks-pod-identity-agent';

/** ECR account serving EKS add-on images in most commercial regions. */
const ECR_ACCOUNT = '602401143452';

export function agentDaemonSet(cluster: ClusterState, addonVersion: string): JsonObject {
  const labels = { 'app.kubernetes.io/instance': AGENT, 'app.kubernetes.io/name': AGENT };
  const domain = cluster.partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  const tag = addonVersion.replace(/-eksbuild\.\d+$/, '');
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: {
      name: AGENT,
      namespace: 'kube-system',
      labels: { ...labels, 'app.kubernetes.io/version': tag },
      annotations: { 'deprecated.daemonset.template.generation': '1' },
    },
    spec: {
      selector: { matchLabels: labels },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: '10%' } },
      template: {
        metadata: { labels },
        spec: {
          hostNetwork: true,
          priorityClassName: 'system-node-critical',
          terminationGracePeriodSeconds: 30,
          // Linux EC2 nodes only: the agent does not run on Windows, Fargate or hybrid nodes.
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [
                  {
                    matchExpressions: [
                      { key: 'kubernetes.io/os', operator: 'In', values: ['linux'] },
                      { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64', 'arm64'] },
                      { key: 'eks.amazonaws.com/compute-type', operator: 'NotIn', values: ['fargate', 'hybrid', 'auto'] },
                    ],
                  },
                ],
              },
            },
          },
          tolerations: [{ operator: 'Exists' }],
          initContainers: [
            {
              name: `${AGENT}-init`,
              image: `${ECR_ACCOUNT}.dkr.ecr.${cluster.region}.${domain}/eks/${AGENT}:${tag}`,
              command: ['/go-runner', '/eks-pod-identity-agent', 'initialize'],
              securityContext: { privileged: true },
            },
          ],
          containers: [
            {
              name: AGENT,
              image: `${ECR_ACCOUNT}.dkr.ecr.${cluster.region}.${domain}/eks/${AGENT}:${tag}`,
              command: ['/go-runner', '/eks-pod-identity-agent', 'server'],
              args: ['--port', '80', '--cluster-name', cluster.name, '--probe-port', '2703'],
              ports: [
                { containerPort: 80, name: 'proxy', protocol: 'TCP' },
                { containerPort: 2703, name: 'probes-port', protocol: 'TCP' },
              ],
              securityContext: { capabilities: { add: ['CAP_NET_BIND_SERVICE'] } },
              livenessProbe: { httpGet: { host: 'localhost', path: '/healthz', port: 'probes-port', scheme: 'HTTP' }, initialDelaySeconds: 30, timeoutSeconds: 10 },
              readinessProbe: { httpGet: { host: 'localhost', path: '/readyz', port: 'probes-port', scheme: 'HTTP' }, initialDelaySeconds: 1, timeoutSeconds: 10 },
            },
          ],
        },
      },
    },
  };
}
