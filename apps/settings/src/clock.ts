// The injected source of time: production uses the system clock, tests drive their own.

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
