import { describe, expect, it } from 'vitest';
import { acceptsJson } from './push.ts';

describe('acceptsJson (psibase acceptJson)', () => {
  it('answers JSON unless the client prefers application/octet-stream', () => {
    expect(acceptsJson(null)).toBe(true);
    expect(acceptsJson('')).toBe(true);
    expect(acceptsJson('application/json')).toBe(true);
    expect(acceptsJson('*/*')).toBe(true);
    expect(acceptsJson('text/html')).toBe(true);
    expect(acceptsJson('application/octet-stream')).toBe(false);
    expect(acceptsJson('Application/Octet-Stream')).toBe(false);
    expect(acceptsJson('application/octet-stream, application/json;q=0.5')).toBe(false);
    expect(acceptsJson('application/json;q=0.1, application/octet-stream')).toBe(false);
    expect(acceptsJson('application/octet-stream;q=0.2, application/json')).toBe(true);
    expect(acceptsJson('application/*')).toBe(true);
  });
});
