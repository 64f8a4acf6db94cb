import { describe, expect, it } from 'vitest';
import { problems } from './helpers.ts';

describe('reference.* cross-checks', () => {
  it('stale_after_seconds must exceed collect_interval_seconds, naming both and saying when the value is a default', () => {
    expect(problems('reference:\n  collect_interval_seconds: 5\n  stale_after_seconds: 5\n')).toEqual([
      expect.stringMatching(/reference\.stale_after_seconds: must be greater than reference\.collect_interval_seconds \(5\), found 5: data would be stale between two refreshes$/),
    ]);
    expect(problems('reference:\n  collect_interval_seconds: 40\n')).toEqual([
      expect.stringMatching(/reference\.stale_after_seconds: must be greater than reference\.collect_interval_seconds \(40\), found the default 30: data would be stale/),
    ]);
  });

  it('the monitor request and response ports must differ', () => {
    expect(problems('reference:\n  monitor:\n    request_port: 7000\n    response_port: 7000\n')).toEqual([
      expect.stringMatching(/reference\.monitor\.response_port: must differ from reference\.monitor\.request_port \(7000\)/),
    ]);
  });
});
