// Time as a dependency: every part that reads the time takes a Clock, so tests drive it.
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();

export const DAY_MS = 24 * 60 * 60 * 1000;
