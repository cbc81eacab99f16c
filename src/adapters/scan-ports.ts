/**
 * The composition of the scan's ports: AWS (EKS per region, IAM, STS) and one Kubernetes port
 * per kubeconfig context. Both SDKs load here, lazily, on first use by a command.
 */
import { createAwsPorts, type AwsOptions } from './aws.js';
import { kubePortFactory, type KubeOptions } from './kube.js';
import type { Kubeconfig } from './kubeconfig.js';
import type { ScanPorts } from '../core/ports.js';

export async function createScanPorts(opts: { aws: AwsOptions; kubeconfig: Kubeconfig; kube?: KubeOptions }): Promise<ScanPorts> {
  const [aws, kube] = await Promise.all([createAwsPorts(opts.aws), kubePortFactory(opts.kubeconfig, opts.kube)]);
  return { sts: aws.sts, iam: aws.iam, eks: aws.eks, kube };
}
