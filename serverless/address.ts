import { lookup } from 'node:dns/promises';
import net from 'node:net';

/** True for `localhost` and names under it, which RFC 6761 reserves for the loopback address. */
export const isLocalhostName = (name: string): boolean => {
  const n = name.toLowerCase().replace(/\.$/, '');
  return n === 'localhost' || n.endsWith('.localhost');
};

/**
 * The IP to connect to for an EndpointSlice address: IPs as they are, `*.localhost` names as
 * 127.0.0.1 (RFC 6761 §6.3, as browsers and systemd-resolved answer them; the local process
 * runner publishes such names because the API server refuses loopback IPs in EndpointSlices), other
 * names through the system resolver.
 */
export async function resolveEndpointAddress(address: string): Promise<string> {
  if (net.isIP(address)) return address;
  if (isLocalhostName(address)) return '127.0.0.1';
  return (await lookup(address)).address;
}
