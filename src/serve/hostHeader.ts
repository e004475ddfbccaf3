// The DNS-rebinding guard. A page from elsewhere can have its own DNS name rebound to 127.0.0.1 and
// then read the dashboard as same-origin; its requests still carry that name in the Host header.
// So the header is parsed by RFC 7230/3986's grammar (a name or an IP literal, an optional port, no
// userinfo) and only loopback is accepted: 127.0.0.0/8 as canonical dotted IPv4, ::1, and localhost.
//
// Browsers canonicalise IP hosts before sending them (WHATWG URL: http://127.1/, http://0x7f.1/ and
// http://2130706433/ all go out as "127.0.0.1"), so every non-canonical spelling (short, hex,
// octal-looking, a single integer, a trailing dot, IPv4-mapped IPv6, zone ids) comes only from
// hand-made requests and is refused rather than interpreted: one spelling, no ambiguity.
import { isIPv6 } from "node:net";

export interface HostHeader {
  /** Lower-cased name, or the IPv6 address without its brackets. */
  name: string;
  ipv6: boolean;
  port: number | null;
}

const DEC_OCTET = /^(?:0|[1-9]\d{0,2})$/;

/** The parts of a Host header value, or null when it is not a valid `host[:port]`. */
export function parseHostHeader(value: string): HostHeader | null {
  if (value === "" || value.length > 255) return null;
  let name: string;
  let rest: string;
  let ipv6 = false;
  if (value.startsWith("[")) {
    const close = value.indexOf("]");
    if (close < 0) return null;
    name = value.slice(1, close);
    rest = value.slice(close + 1);
    if (!isIPv6(name) || name.includes("%")) return null;
    ipv6 = true;
  } else if (value === "::1") {
    // Not valid in a Host header (IPv6 needs brackets), but unambiguous and loopback: accepted as written.
    return { name: "::1", ipv6: true, port: null };
  } else {
    const colon = value.indexOf(":");
    name = colon < 0 ? value : value.slice(0, colon);
    rest = colon < 0 ? "" : value.slice(colon);
    // reg-name / IPv4: letters, digits, hyphens and dots only (no userinfo "@", no percent-encoding).
    if (!/^[A-Za-z0-9.-]+$/.test(name)) return null;
  }
  let port: number | null = null;
  if (rest !== "") {
    const m = /^:([0-9]{1,5})$/.exec(rest);
    if (!m || Number(m[1]) > 65535) return null;
    port = Number(m[1]);
  }
  return { name: ipv6 ? name : name.toLowerCase(), ipv6, port };
}

/** Whether `name` is 127.0.0.0/8 written as four canonical decimal octets. */
export function isLoopbackIPv4(name: string): boolean {
  const parts = name.split(".");
  return parts.length === 4 && parts.every((p) => DEC_OCTET.test(p) && Number(p) <= 255) && parts[0] === "127";
}

/** Whether `address` (no brackets) is ::1, however written (0:0:0:0:0:0:0:1, ::0001); not IPv4-mapped forms. */
export function isLoopbackIPv6(address: string): boolean {
  if (!isIPv6(address) || address.includes("%") || address.includes(".")) return false;
  try {
    return new URL(`http://[${address}]/`).hostname === "[::1]";
  } catch {
    return false;
  }
}

/** Whether a host name or address (as given to --host or parsed from a Host header) is this machine's loopback. */
export function isLoopbackName(name: string, ipv6 = isIPv6(name)): boolean {
  if (ipv6) return isLoopbackIPv6(name);
  const lower = name.toLowerCase();
  return lower === "localhost" || isLoopbackIPv4(lower);
}

/**
 * Whether a request's Host header(s), from Node's rawHeaders, name loopback: exactly one Host
 * header, well formed, and a loopback name.
 */
export function loopbackHostHeader(rawHeaders: string[]): boolean {
  const values: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) if (rawHeaders[i].toLowerCase() === "host") values.push(rawHeaders[i + 1]);
  if (values.length !== 1) return false;
  const parsed = parseHostHeader(values[0]);
  return parsed !== null && isLoopbackName(parsed.name, parsed.ipv6);
}
