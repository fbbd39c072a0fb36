// The Open Session action's status (SPEC 1.5) and the session status, with the transitions allowed.
import { FailedPrecondition } from '@dc/service-kit';

/** SPEC 1.5, in the order an action normally moves through them. */
export const ACTION_STATUSES = ['CREATING', 'DOWNLOADING', 'RUNNING', 'SUCCEEDED', 'NOT_SUCCEEDED', 'ERROR', 'COMPLETE', 'CLOSED'] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];

/**
 * PENDING: the Open Session action is on its way; OPEN: the endpoint attached its session stream;
 * CLOSED: ended normally (by the module, the endpoint or the idle timeout); FAILED: never opened.
 */
export type SessionStatus = 'PENDING' | 'OPEN' | 'CLOSED' | 'FAILED';

const NEXT: Record<ActionStatus, readonly ActionStatus[]> = {
  CREATING: ['DOWNLOADING', 'RUNNING', 'SUCCEEDED', 'NOT_SUCCEEDED', 'ERROR', 'CLOSED'],
  DOWNLOADING: ['RUNNING', 'SUCCEEDED', 'NOT_SUCCEEDED', 'ERROR', 'CLOSED'],
  RUNNING: ['SUCCEEDED', 'NOT_SUCCEEDED', 'ERROR', 'CLOSED'],
  SUCCEEDED: ['COMPLETE', 'CLOSED'],
  NOT_SUCCEEDED: ['COMPLETE', 'CLOSED'],
  ERROR: ['COMPLETE', 'CLOSED'],
  COMPLETE: ['CLOSED'],
  CLOSED: [],
};

export function canMove(from: ActionStatus, to: ActionStatus): boolean {
  return from === to || NEXT[from].includes(to);
}

/** Throws FailedPrecondition when the action cannot move from `from` to `to`. */
export function checkMove(sessionId: string, from: ActionStatus, to: ActionStatus): void {
  if (!canMove(from, to)) {
    throw new FailedPrecondition(`session ${sessionId}: action status cannot move from ${from} to ${to} (allowed: ${NEXT[from].join(', ') || 'none, it is final'})`);
  }
}

/** The session status implied by an action status. */
export function sessionStatusFor(action: ActionStatus, attached: boolean): SessionStatus {
  switch (action) {
    case 'CREATING':
    case 'DOWNLOADING':
    case 'RUNNING':
      return attached ? 'OPEN' : 'PENDING';
    case 'SUCCEEDED':
      return 'OPEN';
    case 'NOT_SUCCEEDED':
    case 'ERROR':
      return 'FAILED';
    case 'COMPLETE':
    case 'CLOSED':
      return 'CLOSED';
  }
}

export function isFinal(action: ActionStatus): boolean {
  return action === 'COMPLETE' || action === 'CLOSED';
}

export function isParseableActionStatus(s: string): s is ActionStatus {
  return (ACTION_STATUSES as readonly string[]).includes(s);
}
