/**
 * AWS-managed policies the sandbox knows, with their real documents (AWS Managed Policy
 * Reference, docs.aws.amazon.com/aws-managed-policy/latest/reference/). podid reads them to check
 * node roles (`eks-auth:AssumeRoleForPodIdentity`) and add-on recommendations, so the documents
 * must grant what AWS's grant, not an approximation.
 *
 * Documents are written with the `aws` partition; `awsManagedPolicy` rewrites resource ARNs for
 * aws-cn / aws-us-gov as AWS does.
 */
import type { JsonObject, Partition } from '../world-types.js';

export interface AwsManagedPolicy {
  name: string;
  /** IAM path: `/` for most, `/service-role/` for AmazonEBSCSIDriverPolicy. */
  path: string;
  arn: string;
  description: string;
  defaultVersionId: string;
  createDate: Date;
  updateDate: Date;
  document: JsonObject;
}

interface Definition {
  name: string;
  path: string;
  description: string;
  version: string;
  created: string;
  updated: string;
  document: JsonObject;
}

const V = '2012-10-17';

const DEFINITIONS: Definition[] = [
  {
    name: 'AmazonEKSWorkerNodePolicy',
    path: '/',
    description: 'This policy allows Amazon EKS worker nodes to connect to Amazon EKS Clusters.',
    version: 'v3',
    created: '2018-05-27T21:09:01Z',
    updated: '2023-11-27T00:06:00Z',
    document: {
      Version: V,
      Statement: [
        {
          Sid: 'WorkerNodePermissions',
          Effect: 'Allow',
          Action: [
            'ec2:DescribeInstances',
            'ec2:DescribeInstanceTypes',
            'ec2:DescribeRouteTables',
            'ec2:DescribeSecurityGroups',
            'ec2:DescribeSubnets',
            'ec2:DescribeVolumes',
            'ec2:DescribeVolumesModifications',
            'ec2:DescribeVpcs',
            'eks:DescribeCluster',
            'eks-auth:AssumeRoleForPodIdentity',
          ],
          Resource: '*',
        },
      ],
    },
  },
  {
    name: 'AmazonEKSWorkerNodeMinimalPolicy',
    path: '/',
    description: 'This policy allows Amazon EKS worker nodes to connect to Amazon EKS Clusters.',
    version: 'v1',
    created: '2024-10-02T20:03:00Z',
    updated: '2024-10-02T20:03:00Z',
    document: {
      Version: V,
      Statement: [
        { Sid: 'WorkerNodePermissions', Effect: 'Allow', Action: ['eks-auth:AssumeRoleForPodIdentity'], Resource: '*' },
      ],
    },
  },
  {
    name: 'AmazonEKS_CNI_Policy',
    path: '/',
    description:
      'This policy provides the Amazon VPC CNI Plugin (amazon-vpc-cni-k8s) the permissions it requires to modify the IP address configuration on your EKS worker nodes. This permission set allows the CNI to list, describe, and modify Elastic Network Interfaces on your behalf. More information on the AWS VPC CNI Plugin is available here: https://github.com/aws/amazon-vpc-cni-k8s',
    version: 'v5',
    created: '2018-05-27T21:07:42Z',
    updated: '2024-03-04T20:20:00Z',
    document: {
      Version: V,
      Statement: [
        {
          Sid: 'AmazonEKSCNIPolicy',
          Effect: 'Allow',
          Action: [
            'ec2:AssignPrivateIpAddresses',
            'ec2:AttachNetworkInterface',
            'ec2:CreateNetworkInterface',
            'ec2:DeleteNetworkInterface',
            'ec2:DescribeInstances',
            'ec2:DescribeTags',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeInstanceTypes',
            'ec2:DescribeSubnets',
            'ec2:DetachNetworkInterface',
            'ec2:ModifyNetworkInterfaceAttribute',
            'ec2:UnassignPrivateIpAddresses',
          ],
          Resource: '*',
        },
        {
          Sid: 'AmazonEKSCNIPolicyENITag',
          Effect: 'Allow',
          Action: ['ec2:CreateTags'],
          Resource: ['arn:aws:ec2:*:*:network-interface/*'],
        },
      ],
    },
  },
  {
    name: 'AmazonEC2ContainerRegistryReadOnly',
    path: '/',
    description: 'Provides read-only access to Amazon EC2 Container Registry repositories.',
    version: 'v3',
    created: '2015-12-21T17:04:00Z',
    updated: '2019-12-10T20:56:00Z',
    document: {
      Version: V,
      Statement: [
        {
          Effect: 'Allow',
          Action: [
            'ecr:GetAuthorizationToken',
            'ecr:BatchCheckLayerAvailability',
            'ecr:GetDownloadUrlForLayer',
            'ecr:GetRepositoryPolicy',
            'ecr:DescribeRepositories',
            'ecr:ListImages',
            'ecr:DescribeImages',
            'ecr:BatchGetImage',
            'ecr:GetLifecyclePolicy',
            'ecr:GetLifecyclePolicyPreview',
            'ecr:ListTagsForResource',
            'ecr:DescribeImageScanFindings',
          ],
          Resource: '*',
        },
      ],
    },
  },
  {
    name: 'AmazonEBSCSIDriverPolicy',
    // A service-role policy: its ARN is arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy.
    path: '/service-role/',
    description:
      'IAM Policy that allows the CSI driver service account to make calls to related services such as EC2 on your behalf.',
    version: 'v4',
    created: '2022-04-04T17:24:00Z',
    updated: '2025-07-15T20:37:00Z',
    document: {
      Version: V,
      Statement: [
        {
          Effect: 'Allow',
          Action: [
            'ec2:DescribeAvailabilityZones',
            'ec2:DescribeInstances',
            'ec2:DescribeSnapshots',
            'ec2:DescribeTags',
            'ec2:DescribeVolumes',
            'ec2:DescribeVolumesModifications',
            'ec2:DescribeVolumeStatus',
          ],
          Resource: '*',
        },
        { Effect: 'Allow', Action: ['ec2:CreateSnapshot', 'ec2:ModifyVolume'], Resource: 'arn:aws:ec2:*:*:volume/*' },
        {
          Effect: 'Allow',
          Action: ['ec2:AttachVolume', 'ec2:DetachVolume'],
          Resource: ['arn:aws:ec2:*:*:volume/*', 'arn:aws:ec2:*:*:instance/*'],
        },
        {
          Effect: 'Allow',
          Action: ['ec2:CreateVolume', 'ec2:EnableFastSnapshotRestores'],
          Resource: 'arn:aws:ec2:*:*:snapshot/*',
        },
        {
          Effect: 'Allow',
          Action: ['ec2:CreateTags'],
          Resource: ['arn:aws:ec2:*:*:volume/*', 'arn:aws:ec2:*:*:snapshot/*'],
          Condition: { StringEquals: { 'ec2:CreateAction': ['CreateVolume', 'CreateSnapshot'] } },
        },
        { Effect: 'Allow', Action: ['ec2:DeleteTags'], Resource: ['arn:aws:ec2:*:*:volume/*', 'arn:aws:ec2:*:*:snapshot/*'] },
        tagged('ec2:CreateVolume', 'volume', 'aws:RequestTag/ebs.csi.aws.com/cluster', 'true'),
        tagged('ec2:CreateVolume', 'volume', 'aws:RequestTag/CSIVolumeName', '*'),
        tagged('ec2:DeleteVolume', 'volume', 'ec2:ResourceTag/ebs.csi.aws.com/cluster', 'true'),
        tagged('ec2:DeleteVolume', 'volume', 'ec2:ResourceTag/CSIVolumeName', '*'),
        tagged('ec2:DeleteVolume', 'volume', 'ec2:ResourceTag/kubernetes.io/created-for/pvc/name', '*'),
        tagged('ec2:CreateSnapshot', 'snapshot', 'aws:RequestTag/CSIVolumeSnapshotName', '*'),
        tagged('ec2:CreateSnapshot', 'snapshot', 'aws:RequestTag/ebs.csi.aws.com/cluster', 'true'),
        tagged('ec2:DeleteSnapshot', 'snapshot', 'ec2:ResourceTag/CSIVolumeSnapshotName', '*'),
        tagged('ec2:DeleteSnapshot', 'snapshot', 'ec2:ResourceTag/ebs.csi.aws.com/cluster', 'true'),
      ],
    },
  },
  {
    name: 'AmazonS3ReadOnlyAccess',
    path: '/',
    description: 'Provides read only access to all buckets via the AWS Management Console.',
    version: 'v3',
    created: '2015-02-06T18:40:00Z',
    updated: '2023-08-10T21:31:00Z',
    document: {
      Version: V,
      Statement: [
        {
          Effect: 'Allow',
          Action: ['s3:Get*', 's3:List*', 's3:Describe*', 's3-object-lambda:Get*', 's3-object-lambda:List*'],
          Resource: '*',
        },
      ],
    },
  },
  {
    name: 'AmazonEKSClusterPolicy',
    path: '/',
    description:
      'This policy provides Kubernetes the permissions it requires to manage resources on your behalf. Kubernetes requires Ec2:CreateTags permissions to place identifying information on EC2 resources including but not limited to Instances, Security Groups, and Elastic Network Interfaces.',
    version: 'v8',
    created: '2018-05-27T21:06:14Z',
    updated: '2025-04-17T02:52:00Z',
    document: {
      Version: V,
      Statement: [
        {
          Sid: 'AmazonEKSClusterPolicy',
          Effect: 'Allow',
          Action: [
            'autoscaling:DescribeAutoScalingGroups',
            'autoscaling:UpdateAutoScalingGroup',
            'ec2:AttachVolume',
            'ec2:AuthorizeSecurityGroupIngress',
            'ec2:CreateRoute',
            'ec2:CreateSecurityGroup',
            'ec2:CreateTags',
            'ec2:CreateVolume',
            'ec2:DeleteRoute',
            'ec2:DeleteSecurityGroup',
            'ec2:DeleteVolume',
            'ec2:DescribeInstances',
            'ec2:DescribeRouteTables',
            'ec2:DescribeSecurityGroups',
            'ec2:DescribeSubnets',
            'ec2:DescribeVolumes',
            'ec2:DescribeVolumesModifications',
            'ec2:DescribeVpcs',
            'ec2:DescribeDhcpOptions',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeAvailabilityZones',
            'ec2:DetachVolume',
            'ec2:ModifyInstanceAttribute',
            'ec2:ModifyVolume',
            'ec2:RevokeSecurityGroupIngress',
            'ec2:DescribeAccountAttributes',
            'ec2:DescribeAddresses',
            'ec2:DescribeInternetGateways',
            'ec2:DescribeInstanceTopology',
            'elasticloadbalancing:AddTags',
            'elasticloadbalancing:ApplySecurityGroupsToLoadBalancer',
            'elasticloadbalancing:AttachLoadBalancerToSubnets',
            'elasticloadbalancing:ConfigureHealthCheck',
            'elasticloadbalancing:CreateListener',
            'elasticloadbalancing:CreateLoadBalancer',
            'elasticloadbalancing:CreateLoadBalancerListeners',
            'elasticloadbalancing:CreateLoadBalancerPolicy',
            'elasticloadbalancing:CreateTargetGroup',
            'elasticloadbalancing:DeleteListener',
            'elasticloadbalancing:DeleteLoadBalancer',
            'elasticloadbalancing:DeleteLoadBalancerListeners',
            'elasticloadbalancing:DeleteTargetGroup',
            'elasticloadbalancing:DeregisterInstancesFromLoadBalancer',
            'elasticloadbalancing:DeregisterTargets',
            'elasticloadbalancing:DescribeListeners',
            'elasticloadbalancing:DescribeLoadBalancerAttributes',
            'elasticloadbalancing:DescribeLoadBalancerPolicies',
            'elasticloadbalancing:DescribeLoadBalancers',
            'elasticloadbalancing:DescribeTargetGroupAttributes',
            'elasticloadbalancing:DescribeTargetGroups',
            'elasticloadbalancing:DescribeTargetHealth',
            'elasticloadbalancing:DetachLoadBalancerFromSubnets',
            'elasticloadbalancing:ModifyListener',
            'elasticloadbalancing:ModifyLoadBalancerAttributes',
            'elasticloadbalancing:ModifyTargetGroup',
            'elasticloadbalancing:ModifyTargetGroupAttributes',
            'elasticloadbalancing:RegisterInstancesWithLoadBalancer',
            'elasticloadbalancing:RegisterTargets',
            'elasticloadbalancing:SetLoadBalancerPoliciesForBackendServer',
            'elasticloadbalancing:SetLoadBalancerPoliciesOfListener',
            'kms:DescribeKey',
          ],
          Resource: '*',
        },
        {
          Sid: 'AmazonEKSClusterPolicySLRCreate',
          Effect: 'Allow',
          Action: 'iam:CreateServiceLinkedRole',
          Resource: '*',
          Condition: { StringEquals: { 'iam:AWSServiceName': 'elasticloadbalancing.amazonaws.com' } },
        },
        {
          Sid: 'AmazonEKSClusterPolicyENIDelete',
          Effect: 'Allow',
          Action: 'ec2:DeleteNetworkInterface',
          Resource: '*',
          Condition: { StringEquals: { 'ec2:ResourceTag/eks:eni:owner': 'amazon-vpc-cni' } },
        },
      ],
    },
  },
];

/** One of the EBS CSI driver's tag-conditioned statements. */
function tagged(action: string, resource: 'volume' | 'snapshot', key: string, value: string): JsonObject {
  return {
    Effect: 'Allow',
    Action: [action],
    Resource: `arn:aws:ec2:*:*:${resource}/*`,
    Condition: { StringLike: { [key]: value } },
  };
}

/** The ARN prefix of AWS-managed policies: `arn:<partition>:iam::aws:policy`. */
export function isAwsManagedArn(arn: string): boolean {
  return /^arn:aws(-cn|-us-gov)?:iam::aws:policy\//.test(arn);
}

/** The AWS-managed policy with this exact ARN (path included), or undefined. */
export function awsManagedPolicy(arn: string): AwsManagedPolicy | undefined {
  const m = /^arn:(aws|aws-cn|aws-us-gov):iam::aws:policy(\/(?:.*\/)?)([^/]+)$/.exec(arn);
  if (!m) return undefined;
  const partition = m[1] as Partition;
  const def = DEFINITIONS.find((d) => d.path === m[2] && d.name === m[3]);
  if (!def) return undefined;
  return {
    name: def.name,
    path: def.path,
    arn,
    description: def.description,
    defaultVersionId: def.version,
    createDate: new Date(def.created),
    updateDate: new Date(def.updated),
    document: inPartition(def.document, partition),
  };
}

/** Every known AWS-managed policy ARN in a partition (for docs and tests). */
export function awsManagedPolicyArns(partition: Partition): string[] {
  return DEFINITIONS.map((d) => `arn:${partition}:iam::aws:policy${d.path}${d.name}`);
}

function inPartition(doc: JsonObject, partition: Partition): JsonObject {
  const copy = structuredClone(doc);
  if (partition === 'aws') return copy;
  return JSON.parse(JSON.stringify(copy).replaceAll('"arn:aws:', `"arn:${partition}:`)) as JsonObject;
}
