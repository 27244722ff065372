/** psinode's shortest-path routing to producers, as a platform-free state machine. */
export * from './errors.ts';
export * from './shortest-path.ts';
