/**
 * Who sends a command from the dashboard, as something authenticated it: a per-operator token
 * (the operators file holds each name with the SHA-256 of its token, never the token), or the
 * user a trusted single-sign-on proxy in front of the dashboard names in a header. Without either,
 * the page's typed name is a display name only and commands carry no identity.
 */
import { createHash } from 'node:crypto';
import type http from 'node:http';
import { parse as parseYaml } from 'yaml';
import { requestToken, sameSecret } from './guard';

/** An operator as the dashboard authenticated it. */
export interface PageOperator {
  /** The display name commands carry as `by`. */
  name: string;
  /** `dashboard:<name>` or `sso:<user>`. */
  identity: string;
}

/** The operators file could not be used; the message names the entry, never a token. */
export class OperatorsFileError extends Error {
  override readonly name = 'OperatorsFileError';
}

const NAME = /^[A-Za-z0-9._@-]{1,64}$/;
const HASH = /^sha256:[0-9a-f]{64}$/;

/** `sha256:<hex>` of a token, as the operators file stores it. */
export function tokenHash(token: string): string {
  return `sha256:${createHash('sha256').update(token).digest('hex')}`;
}

/**
 * Reads an operators file: YAML or JSON, `{ operators: { <name>: "sha256:<hex>" } }` (or the map
 * alone). Every problem is named at once.
 * @throws OperatorsFileError
 */
export function parseOperators(text: string): Map<string, string> {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new OperatorsFileError(
      `operators file: not YAML or JSON: ${(err as Error).message.split('\n')[0]}`,
    );
  }
  const root = doc && typeof doc === 'object' && 'operators' in doc ? doc.operators : doc;
  if (!root || typeof root !== 'object' || Array.isArray(root))
    throw new OperatorsFileError(
      'operators file: expected a map of operator names to "sha256:<hex>" token hashes',
    );
  const problems: string[] = [];
  const byHash = new Map<string, string>();
  for (const [name, value] of Object.entries(root as Record<string, unknown>)) {
    if (!NAME.test(name)) problems.push(`${JSON.stringify(name)}: a name of 1-64 letters, digits, . _ @ -`);
    const hash = typeof value === 'string' && HASH.test(value) ? value : undefined;
    if (!hash)
      problems.push(
        `${name}: the token's hash as "sha256:<64 hex digits>" (sag-rollout dashboard --hash-token)`,
      );
    else if (byHash.has(hash)) problems.push(`${name}: the same token as ${byHash.get(hash)}`);
    else byHash.set(hash, name);
  }
  if (problems.length > 0) throw new OperatorsFileError(`operators file: ${problems.join('; ')}`);
  if (byHash.size === 0) throw new OperatorsFileError('operators file: no operator');
  return byHash;
}

/**
 * Tells who a request comes from, by the dashboard's configuration. A token the operators file
 * knows decides, whatever header comes with it; a token that names no operator (and is not the
 * dashboard's shared access token) identifies no one; only then does a trusted proxy's header name
 * the user.
 */
export class OperatorIdentifier {
  constructor(
    /** Token hash (`sha256:<hex>`) → operator name, from the operators file. */
    private readonly operators: Map<string, string> | undefined,
    /** The header a trusted proxy names the signed-in user in (lower case). */
    private readonly trustHeader: string | undefined,
    /** The dashboard's shared access token: access for anyone holding it, naming no operator. */
    private readonly accessToken?: string,
  ) {}

  /** Whether commands need an authenticated operator (an operators file or a trusted header is set). */
  get required(): boolean {
    return this.operators !== undefined || this.trustHeader !== undefined;
  }

  /** The operator whose token `token` is, when the operators file knows it. */
  operatorOfToken(token: string | undefined): string | undefined {
    if (!this.operators || token === undefined) return undefined;
    // Looked up by the token's hash: the token itself is never compared.
    return this.operators.get(tokenHash(token));
  }

  /** Who sent `req`, or undefined when nothing authenticated them. */
  identify(req: http.IncomingMessage): PageOperator | undefined {
    const token = requestToken(req);
    if (this.operators && token !== undefined) {
      const name = this.operatorOfToken(token);
      if (name) return { name, identity: `dashboard:${name}` };
      // A token that is no operator's must not fall back to a header the sender can add.
      if (!(this.accessToken && sameSecret(token, this.accessToken))) return undefined;
    }
    if (this.trustHeader) {
      const raw = req.headers[this.trustHeader];
      const user = (Array.isArray(raw) ? raw[0] : raw)?.trim();
      if (user && user.length <= 200) return { name: user, identity: `sso:${user}` };
    }
    return undefined;
  }
}
