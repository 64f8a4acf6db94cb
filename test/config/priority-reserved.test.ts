import { expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import { parseConfigText } from '../../src/config/index.ts';
import { LEAVING_PRIORITY } from '../../machines/role.machine.ts';

it('the lowest int32 priority is refused: it is reserved for the leaving announcement', () => {
  expect(LEAVING_PRIORITY).toBe(-2147483648);
  let error: unknown;
  try {
    parseConfigText(`ha:\n  interface: 127.0.0.1\n  priority: ${LEAVING_PRIORITY}\n`, 'n.yaml', { env: {} });
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).message).toMatch(/^n\.yaml:3:\d+: ha\.priority: .*reserved/);
  expect(parseConfigText(`ha:\n  interface: 127.0.0.1\n  priority: ${LEAVING_PRIORITY + 1}\n`, 'n.yaml', { env: {} }).ha.priority).toBe(LEAVING_PRIORITY + 1);
});
