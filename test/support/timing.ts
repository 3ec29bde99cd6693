/**
 * How long a test waits for a child process (`airlock serve`, psql) to come up or finish.
 * Generous on purpose: CI runs two test files at once on two shared cores, each spawning
 * tsx-loaded processes with a cold transform cache, and a start that takes 2 s here has
 * taken over 20 s there. A slow start is not what these tests check; a hang still fails.
 */
export const PROCESS_START_MS = 90_000;
