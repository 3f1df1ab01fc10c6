/**
 * TLS material of the gateway's wss listeners: the default certificate and the ones chosen by the
 * server name a client asks for (SNI, RFC 6066 §3). Files are read when a configuration is loaded, so a
 * reload picks up renewed certificates, and an unreadable or mismatched file refuses the configuration
 * instead of failing the first handshake.
 * @module
 */
import type { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { ConfigIssue } from './config/issues.js';
import type { TlsConfig } from './config/types.js';
import { hostMatches } from './router.js';

/** One SNI entry, ready to serve. */
export interface SniEntry {
  /** `chat.example.com` or `*.example.com`, lowercased. */
  readonly serverName: string;
  readonly context: SecureContext;
}

/** What a wss listener serves. */
export interface TlsMaterial {
  /** The default certificate chain and key (PEM), for clients naming no known server. */
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly sni: readonly SniEntry[];
}

/** Reads a PEM file; a failure becomes an issue at `path`. */
function readPem(file: string, path: string, issues: ConfigIssue[]): Buffer | null {
  try {
    return readFileSync(file);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    issues.push({ path, expected: 'a readable PEM file', found: `${JSON.stringify(file)} (${reason})` });
    return null;
  }
}

/** A secure context of a certificate and its key; a bad pair becomes an issue at `path`. */
function contextOf(cert: Buffer, key: Buffer, path: string, issues: ConfigIssue[]): SecureContext | null {
  try {
    return createSecureContext({ cert, key });
  } catch (error) {
    const found = `an unusable pair (${(error as Error).message})`;
    issues.push({ path, expected: 'a PEM certificate and its private key', found });
    return null;
  }
}

/**
 * Reads and checks the files of `tls` (the listener at `at`, e.g. `listen[1]`). Problems are appended
 * to `issues` and null is returned.
 */
export function loadTlsMaterial(tls: TlsConfig, at: string, issues: ConfigIssue[]): TlsMaterial | null {
  const before = issues.length;
  const cert = readPem(tls.cert, `${at}.tls.cert`, issues);
  const key = readPem(tls.key, `${at}.tls.key`, issues);
  if (cert !== null && key !== null) contextOf(cert, key, `${at}.tls`, issues);
  const sni: SniEntry[] = [];
  tls.sni.forEach((entry, index) => {
    const where = `${at}.tls.sni[${index}]`;
    const entryCert = readPem(entry.cert, `${where}.cert`, issues);
    const entryKey = readPem(entry.key, `${where}.key`, issues);
    if (entryCert === null || entryKey === null) return;
    const context = contextOf(entryCert, entryKey, where, issues);
    if (context !== null) sni.push({ serverName: entry.serverName, context });
  });
  if (issues.length > before || cert === null || key === null) return null;
  return { cert, key, sni };
}

/**
 * The context for the server name a client sent: an exact entry first, else the first wildcard entry
 * that matches; undefined (the listener's default certificate) when none does or no name was sent.
 */
export function sniContext(material: TlsMaterial, serverName: string | undefined): SecureContext | undefined {
  if (serverName === undefined || serverName === '') return undefined;
  const name = serverName.toLowerCase();
  const exact = material.sni.find((entry) => entry.serverName === name);
  if (exact !== undefined) return exact.context;
  return material.sni.find(
    (entry) => entry.serverName.startsWith('*.') && hostMatches(entry.serverName, name),
  )?.context;
}
