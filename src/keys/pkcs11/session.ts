/**
 * A logged-in session on the token a key URI names, and the key objects in it.
 *
 * Opening: find the one slot whose token matches every token attribute of the URI (label, serial,
 * slot id), open a session, log in as the user with the PIN from the URI's pin-source (or
 * SUMKEEP_PKCS11_PIN), find the one private key object matching the URI's object label and id (and
 * its public key object). CKR_USER_ALREADY_LOGGED_IN is success: login state is per token and shared
 * by every session of this process.
 *
 * Errors are sorted in three kinds, because callers react differently:
 *  - `config`: the URI names nothing (no such token or key, several match, a key of the wrong
 *    type); nothing will get better by retrying.
 *  - PIN refused (CKR_PIN_INCORRECT, _LOCKED, _EXPIRED, _INVALID, _LEN_RANGE): reported as `config`
 *    at start. Later the same PIN is never offered again: hardware tokens lock after a few wrong
 *    PINs, so login is retried only once the PIN source holds another PIN.
 *  - everything else (token removed, session or handle invalid, device or library error):
 *    `unavailable`; `reopen()` closes what is left, re-initializes the library when needed and
 *    opens again.
 */
import { createHash } from 'node:crypto';
import type * as Pkcs11js from 'pkcs11js';
import { SumkeepError } from '../../core/errors.ts';
import { ckrCode, ckrName, Pkcs11Library, pkcs11js, type Handle, type Pkcs11Api } from './library.ts';
import { readPin } from './pin.ts';
import { describeUri, type Pkcs11Uri } from './uri.ts';

/** True for CK_RV values that say the PIN itself was refused. */
export function isPinError(code: number | null): boolean {
  const m = pkcs11js();
  return (
    code === m.CKR_PIN_INCORRECT ||
    code === m.CKR_PIN_LOCKED ||
    code === m.CKR_PIN_EXPIRED ||
    code === m.CKR_PIN_INVALID ||
    code === m.CKR_PIN_LEN_RANGE
  );
}

/** The unsigned number a slot handle (a little-endian CK_SLOT_ID) stands for. */
function slotNumber(h: Handle): number {
  if (h.length >= 8) return Number(h.readBigUInt64LE(0));
  return h.readUInt32LE(0);
}

function trimField(s: string): string {
  // eslint-disable-next-line no-control-regex -- CK_TOKEN_INFO fields are blank- (or NUL-) padded
  return s.replace(/[\s\u0000]+$/, '');
}

export interface SessionOptions {
  env?: NodeJS.ProcessEnv;
  /** A read/write session (generating keys); default read-only. */
  readWrite?: boolean;
}

export class TokenSession {
  readonly uri: Pkcs11Uri;
  readonly lib: Pkcs11Library;
  private readonly opts: SessionOptions;
  private session: Handle | null = null;
  private generation = -1;
  /** SHA-256 of the last PIN the token refused, so that it is not offered again. */
  private refusedPin: string | null = null;

  constructor(uri: Pkcs11Uri, opts: SessionOptions = {}) {
    this.uri = uri;
    this.opts = opts;
    this.lib = Pkcs11Library.get(uri.modulePath);
  }

  /** `token "x" key "y"`, for messages. */
  get name(): string {
    return describeUri(this.uri);
  }

  /** True while a session of the library's current generation is open. */
  get isOpen(): boolean {
    return this.session !== null && this.generation === this.lib.generation;
  }

  /** The open session and API; opens one first when needed (errors as in the file comment). */
  handle(): { p: Pkcs11Api; session: Handle } {
    if (!this.isOpen) this.open();
    return { p: this.lib.p11(), session: this.session! };
  }

  /** Closes this session (keeps the library loaded); never throws. */
  close(): void {
    const s = this.session;
    this.session = null;
    if (s === null || this.generation !== this.lib.generation) return;
    try {
      this.lib.p11().C_CloseSession(s);
    } catch {
      // already gone with its token
    }
  }

  /**
   * Closes what is left and opens again; when that fails for a reason other than the URI or the
   * PIN, re-initializes the library once and tries again.
   */
  reopen(): void {
    this.close();
    try {
      this.open();
    } catch (e) {
      if (e instanceof SumkeepError && e.code === 'unavailable') {
        this.lib.reset();
        this.open();
        return;
      }
      throw e;
    }
  }

  private open(): void {
    const p = this.lib.p11();
    const m = pkcs11js();
    const slot = this.findSlot(p);
    let session: Handle;
    try {
      const flags = m.CKF_SERIAL_SESSION | (this.opts.readWrite === true ? m.CKF_RW_SESSION : 0);
      session = p.C_OpenSession(slot, flags);
    } catch (e) {
      throw this.unavailable('cannot open a session', e);
    }
    try {
      this.login(p, session);
    } catch (e) {
      try {
        p.C_CloseSession(session);
      } catch {
        // the login error is the one to report
      }
      throw e;
    }
    this.session = session;
    this.generation = this.lib.generation;
  }

  private findSlot(p: Pkcs11Api): Handle {
    let slots: Handle[];
    try {
      slots = p.C_GetSlotList(true);
    } catch (e) {
      throw this.unavailable('cannot list the slots', e);
    }
    const u = this.uri;
    const seen: string[] = [];
    const matches = slots.filter((slot) => {
      if (u.slotId !== undefined && slotNumber(slot) !== u.slotId) return false;
      let info;
      try {
        info = p.C_GetTokenInfo(slot);
      } catch {
        return false; // a token that went away while listing
      }
      const label = trimField(info.label);
      if (label !== '') seen.push(JSON.stringify(label));
      return (
        (u.token === undefined || label === u.token) &&
        (u.serial === undefined || trimField(info.serialNumber) === u.serial)
      );
    });
    if (matches.length === 1) return matches[0]!;
    if (matches.length === 0) {
      // Not `config`: a token that is absent now (unplugged, network HSM down) may come back.
      throw new SumkeepError(
        'unavailable',
        `${this.name}: no such token is present (tokens present: ${seen.length === 0 ? 'none' : seen.join(', ')})`,
      );
    }
    throw new SumkeepError(
      'config',
      `${this.name}: ${matches.length} tokens match; add serial=<serial> to the URI`,
    );
  }

  private login(p: Pkcs11Api, session: Handle): void {
    const m = pkcs11js();
    const pin = readPin(this.uri.pinSource, this.opts.env);
    const digest = createHash('sha256').update(pin).digest('hex');
    const from =
      this.uri.pinSource.kind === 'file' ? `the PIN file ${this.uri.pinSource.path}` : 'SUMKEEP_PKCS11_PIN';
    if (digest === this.refusedPin) {
      throw new SumkeepError(
        'unavailable',
        `${this.name}: the token refused this PIN before; it is not tried again until ${from} holds another one`,
      );
    }
    try {
      p.C_Login(session, m.CKU_USER, pin);
    } catch (e) {
      const code = ckrCode(e);
      if (code === m.CKR_USER_ALREADY_LOGGED_IN) return;
      if (isPinError(code)) {
        this.refusedPin = digest;
        throw new SumkeepError(
          'config',
          `${this.name}: the token refused the PIN from ${from} (${ckrName(e)}); check it (tokens lock after a few wrong PINs)`,
          { cause: e },
        );
      }
      throw this.unavailable('login failed', e);
    }
    this.refusedPin = null;
  }

  /**
   * The handles of objects of `cls` (CKO_PRIVATE_KEY, CKO_PUBLIC_KEY) matching the URI's label and
   * id; at most `max`.
   */
  find(cls: number, max = 4): Handle[] {
    const { p, session } = this.handle();
    const m = pkcs11js();
    const template: Pkcs11Template = [{ type: m.CKA_CLASS, value: cls }];
    if (this.uri.object !== undefined) template.push({ type: m.CKA_LABEL, value: this.uri.object });
    if (this.uri.id !== undefined) template.push({ type: m.CKA_ID, value: Buffer.from(this.uri.id) });
    try {
      p.C_FindObjectsInit(session, template);
      try {
        return p.C_FindObjects(session, max);
      } finally {
        p.C_FindObjectsFinal(session);
      }
    } catch (e) {
      throw this.unavailable('cannot search the token', e);
    }
  }

  /** Reads one attribute, or undefined when the token will not tell (sensitive, unknown). */
  attribute(obj: Handle, type: number): Buffer | undefined {
    const { p, session } = this.handle();
    try {
      const [a] = p.C_GetAttributeValue(session, obj, [{ type }]);
      return a?.value;
    } catch (e) {
      const code = ckrCode(e);
      const m = pkcs11js();
      if (code === m.CKR_ATTRIBUTE_SENSITIVE || code === m.CKR_ATTRIBUTE_TYPE_INVALID) return undefined;
      throw this.unavailable('cannot read a key attribute', e);
    }
  }

  /** `unavailable` naming the key, what failed and the CKR_ code (never a path or the PIN). */
  unavailable(what: string, e: unknown): SumkeepError {
    if (e instanceof SumkeepError) return e;
    return new SumkeepError('unavailable', `${this.name}: ${what}: ${ckrName(e)}`, { cause: e });
  }
}

export type Pkcs11Template = Pkcs11js.Template;
