import { describe, expect, it } from 'vitest';
import { parse, problems } from './helpers.ts';

describe('ha.backend and ha.lease configuration', () => {
  it('defaults to multicast, with client-go-like lease timing for when a lease backend is picked', () => {
    const c = parse('');
    expect(c.ha.backend).toBe('multicast');
    expect(c.ha.lease).toEqual({ ttlMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 });
  });

  it('switching to redis or etcd is one line; their keys are read', () => {
    const r = parse('ha:\n  backend: redis\n  redis:\n    url: redis://10.0.0.5:6380/2\n    key_prefix: shop-ha\n');
    expect(r.ha.backend).toBe('redis');
    expect(r.ha.redis).toEqual({ url: 'redis://10.0.0.5:6380/2', keyPrefix: 'shop-ha' });
    const e = parse('ha:\n  backend: etcd\n  etcd:\n    endpoints: "http://10.0.0.1:2379, http://10.0.0.2:2379/"\n');
    expect(e.ha.etcd.endpoints).toBe('http://10.0.0.1:2379,http://10.0.0.2:2379');
  });

  it('refuses bad backends, URLs and prefixes, naming the key', () => {
    expect(problems('ha:\n  backend: zookeeper\n')).toEqual([expect.stringMatching(/ha\.backend.*must be one of: multicast, redis, etcd, single; found string "zookeeper"/)]);
    expect(problems('ha:\n  redis:\n    url: http://x:6379\n')).toEqual([expect.stringMatching(/ha\.redis\.url.*must use redis or rediss, found http:/)]);
    expect(problems('ha:\n  etcd:\n    endpoints: "http://a:2379,ftp://b"\n')).toEqual([expect.stringMatching(/ha\.etcd\.endpoints.*endpoint 2: .*must use http or https/)]);
    expect(problems('ha:\n  redis:\n    key_prefix: "has space"\n')).toEqual([expect.stringMatching(/ha\.redis\.key_prefix.*printable ASCII characters without spaces/)]);
  });

  it('checks retry period < renew deadline < TTL, one problem each, naming both keys', () => {
    const ps = problems('ha:\n  lease:\n    ttl_seconds: 5\n    renew_deadline_seconds: 5\n    retry_period_seconds: 6\n');
    expect(ps).toEqual([
      expect.stringMatching(/ha\.lease\.renew_deadline_seconds.*must be less than ha\.lease\.ttl_seconds \(5\), found 5/),
      expect.stringMatching(/ha\.lease\.retry_period_seconds.*must be less than ha\.lease\.renew_deadline_seconds \(5\), found 6/),
    ]);
    expect(problems('ha:\n  lease:\n    ttl_seconds: 8\n')).toEqual([expect.stringMatching(/renew_deadline_seconds.*less than ha\.lease\.ttl_seconds \(8\), found the default 10/)]);
  });

  it('etcd needs whole-second TTLs; a lease backend cannot force primary', () => {
    expect(problems('ha:\n  backend: etcd\n  lease:\n    ttl_seconds: 1.5\n    renew_deadline_seconds: 1\n    retry_period_seconds: 0.2\n')).toEqual([
      expect.stringMatching(/ha\.lease\.ttl_seconds.*whole number of seconds with ha\.backend etcd.*found 1\.5/),
    ]);
    expect(problems('ha:\n  backend: redis\n  role: primary\n')).toEqual([expect.stringMatching(/ha\.role.*primary cannot be forced with ha\.backend redis/)]);
    expect(parse('ha:\n  backend: single\n  role: primary\n').ha.backend).toBe('single');
  });
});
