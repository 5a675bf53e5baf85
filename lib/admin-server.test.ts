import { describe, expect, it } from 'vitest';
import { InvalidAddressError, parseHostPort } from './admin-server.ts';

describe('parseHostPort', () => {
  it('reads host:port, [v6]:port and :port (default host)', () => {
    expect(parseHostPort('0.0.0.0:9901')).toEqual({ host: '0.0.0.0', port: 9901 });
    expect(parseHostPort('[::1]:8443')).toEqual({ host: '::1', port: 8443 });
    expect(parseHostPort(':0')).toEqual({ host: '127.0.0.1', port: 0 });
  });

  it('refuses anything else with a coded error that says how to write it', () => {
    expect(() => parseHostPort('localhost')).toThrow(InvalidAddressError);
    expect(() => parseHostPort('localhost')).toThrow(
      "invalid address 'localhost': expected host:port (write host:port",
    );
    expect(() => parseHostPort('a:70000')).toThrow('port 70000 is above 65535');
  });
});
