/**
 * The Table printers (src/sandbox/kube/table.ts) on objects the sandbox's own controllers do not
 * make (crash loops, init containers, finished pods and jobs), checked against what upstream's
 * printPod / printJob / HumanDuration give for them.
 */
import { describe, expect, it } from 'vitest';
import { humanDuration, includeObjectOf, negotiate, table } from '../../src/sandbox/kube/table.js';
import { resource } from '../../src/sandbox/kube/resources.js';
import type { JsonObject } from '../../src/sandbox/world-types.js';

const NOW = Date.parse('2025-01-01T12:00:00Z');
const ago = (s: number) => new Date(NOW - s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

function cells(plural: string, obj: JsonObject): unknown[] {
  const t = table({ type: resource(plural), objects: [obj], metadata: {}, version: 'v1', include: 'None', now: NOW });
  return (t.rows as { cells: unknown[] }[])[0]?.cells ?? [];
}

function pod(status: JsonObject, spec: JsonObject = {}, meta: JsonObject = {}): JsonObject {
  return { metadata: { name: 'p', namespace: 'ns', creationTimestamp: ago(3600), ...meta }, spec: { containers: [{ name: 'a', image: 'a' }], ...spec }, status };
}

describe('table printers', () => {
  it('HumanDuration as apimachinery formats it', () => {
    const cases: [number, string][] = [
      [-3000, '<invalid>'],
      [-500, '0s'],
      [0, '0s'],
      [119_000, '119s'],
      [120_000, '2m'],
      [200_000, '3m20s'],
      [600_000, '10m'],
      [179 * 60_000, '179m'],
      [3 * 3600_000, '3h'],
      [(7 * 60 + 59) * 60_000, '7h59m'],
      [47 * 3600_000, '47h'],
      [50 * 3600_000, '2d2h'],
      [72 * 3600_000, '3d'],
      [400 * 86_400_000, '400d'],
      [(3 * 365 + 10) * 86_400_000, '3y10d'],
      [9 * 365 * 86_400_000, '9y'],
    ];
    for (const [ms, want] of cases) expect([ms, humanDuration(ms)]).toEqual([ms, want]);
  });

  it('pods: crash loops with the last restart, init containers, finished and terminating pods', () => {
    const crash = pod({
      phase: 'Running',
      containerStatuses: [{ name: 'a', ready: false, restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, finishedAt: ago(90) } } }],
    });
    expect(cells('pods', crash).slice(1, 5)).toEqual(['0/1', 'CrashLoopBackOff', '4 (90s ago)', '60m']);
    const init = pod(
      { phase: 'Pending', initContainerStatuses: [{ name: 'i', ready: false, restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } }] },
      { initContainers: [{ name: 'i', image: 'i' }] },
    );
    expect(cells('pods', init).slice(1, 3)).toEqual(['0/1', 'Init:0/1']);
    const sidecar = pod(
      {
        phase: 'Running',
        conditions: [{ type: 'Initialized', status: 'True' }],
        initContainerStatuses: [{ name: 's', ready: true, started: true, restartCount: 0, state: { running: {} } }],
        containerStatuses: [{ name: 'a', ready: true, restartCount: 0, state: { running: {} } }],
      },
      { initContainers: [{ name: 's', image: 's', restartPolicy: 'Always' }] },
    );
    expect(cells('pods', sidecar).slice(1, 3)).toEqual(['2/2', 'Running']);
    const done = table({
      type: resource('pods'),
      objects: [pod({ phase: 'Succeeded', containerStatuses: [{ name: 'a', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }] })],
      metadata: {},
      version: 'v1',
      include: 'None',
      now: NOW,
    });
    const row = (done.rows as { cells: unknown[]; conditions?: unknown }[])[0];
    expect(row?.cells.slice(1, 3)).toEqual(['0/1', 'Completed']);
    expect(row?.conditions).toEqual([{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }]);
    const failed = pod({ phase: 'Failed', containerStatuses: [{ name: 'a', ready: false, restartCount: 0, state: { terminated: { exitCode: 255 } } }] });
    expect(cells('pods', failed)[2]).toBe('ExitCode:255');
    const going = pod({ phase: 'Running', containerStatuses: [{ name: 'a', ready: true, restartCount: 0, state: { running: {} } }] }, {}, { deletionTimestamp: ago(1) });
    expect(cells('pods', going).slice(1, 3)).toEqual(['1/1', 'Terminating']);
    const gated = pod({ phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }, { type: 'example.com/gate', status: 'True' }], podIPs: [{ ip: '10.0.0.5' }] }, { nodeName: 'n1', readinessGates: [{ conditionType: 'example.com/gate' }, { conditionType: 'example.com/other' }] });
    expect(cells('pods', gated).slice(5)).toEqual(['10.0.0.5', 'n1', '<none>', '1/2']);
  });

  it('jobs, cronjobs and selectors', () => {
    const job = {
      metadata: { name: 'j', creationTimestamp: ago(600) },
      spec: { completions: 1, selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u' }, matchExpressions: [{ key: 'a', operator: 'In', values: ['y', 'x'] }, { key: 'z', operator: 'DoesNotExist' }] }, template: { spec: { containers: [{ name: 'm', image: 'img:1' }, { name: 'n', image: 'img:2' }] } } },
      status: { succeeded: 1, startTime: ago(600), completionTime: ago(570), conditions: [{ type: 'Complete', status: 'True' }] },
    };
    expect(cells('jobs', job)).toEqual(['j', 'Complete', '1/1', '30s', '10m', 'm,n', 'img:1,img:2', 'a in (x,y),batch.kubernetes.io/controller-uid=u,!z']);
    const running = { metadata: { name: 'r', creationTimestamp: ago(60) }, spec: { parallelism: 3, template: { spec: { containers: [] } } }, status: { startTime: ago(60) } };
    expect(cells('jobs', running).slice(1, 4)).toEqual(['Running', '0/1 of 3', '60s']);
    const cron = { metadata: { name: 'c', creationTimestamp: ago(7200) }, spec: { schedule: '0 3 * * *', suspend: true, jobTemplate: { spec: { template: { spec: { containers: [{ name: 'm', image: 'i' }] } } } } }, status: { active: [{ name: 'c-1' }], lastScheduleTime: ago(300) } };
    expect(cells('cronjobs', cron)).toEqual(['c', '0 3 * * *', '<none>', 'True', 1, '5m', '120m', 'm', 'i', '<none>']);
  });

  it('nodes: roles, conditions and missing wide data', () => {
    const node = { metadata: { name: 'n', creationTimestamp: ago(10), labels: { 'node-role.kubernetes.io/worker': '', 'node-role.kubernetes.io/control-plane': '' } }, spec: { unschedulable: true }, status: { conditions: [{ type: 'Ready', status: 'False' }], nodeInfo: { kubeletVersion: 'v1.30.0' } } };
    expect(cells('nodes', node)).toEqual(['n', 'NotReady,SchedulingDisabled', 'control-plane,worker', '10s', 'v1.30.0', '<none>', '<none>', '<unknown>', '<unknown>', '<unknown>']);
  });

  it('negotiation and includeObject', () => {
    expect(negotiate(undefined)).toEqual({ as: 'plain' });
    expect(negotiate('application/json;as=Table;g=meta.k8s.io;v=v1')).toEqual({ as: 'Table', version: 'v1' });
    expect(negotiate('application/yaml')).toEqual({ as: 'plain' });
    expect(() => negotiate('application/json;as=Table;v=v1;g=meta.k8s.io;q=0')).toThrow(/only the following media types/);
    expect(() => includeObjectOf(new URLSearchParams('includeObject=x'))).toThrow('unrecognized includeObject value: "x"');
  });
});
