/**
 * The application layer's progress events: what a command is doing, typed. The app emits them
 * through an EventSink it is given; the CLI renders them (cli/progress.ts), a test can collect
 * them. Commands added later (apply) extend AppEvent with their own members.
 */
import type { ScanEvent } from '../core/scan/events.js';

export type PlanEvent = { readonly type: 'planning'; readonly serviceAccounts: number; readonly addons: number };

export type AppEvent = ScanEvent | PlanEvent;

export type EventSink = (event: AppEvent) => void;

/** For callers that do not follow progress. */
export const ignoreEvents: EventSink = () => undefined;
