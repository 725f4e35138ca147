/**
 * One loaded PKCS#11 library (a `.so` named by module-path) per process, shared by every key that
 * lives behind it. The binding is pkcs11js (a thin N-API addon: one JS call per C_* function, each
 * synchronous); it is loaded lazily, so that a server without tokens never loads the addon.
 *
 * `reset()` finalizes and re-initializes the library: the one way to recover some libraries after a
 * token was removed and put back (SoftHSM answers CKR_GENERAL_ERROR to C_GetSlotList until then). It
 * ends every session of every key behind the library; `generation` counts resets so that each key
 * notices and opens a new session.
 *
 * Mechanism and type numbers not exported by pkcs11js are PKCS#11 v3.0's (section 6.3 and 2.3).
 */
import { createRequire } from 'node:module';
import type * as Pkcs11js from 'pkcs11js';
import { SumkeepError } from '../../core/errors.ts';

export type Pkcs11Api = Pkcs11js.PKCS11;
export type Pkcs11Module = typeof Pkcs11js;
export type Handle = Buffer;

/** PKCS#11 v3.0 numbers missing from pkcs11js's constant table. */
export const CKK_EC_EDWARDS = 0x40;
export const CKM_EC_EDWARDS_KEY_PAIR_GEN = 0x1055;
export const CKM_EDDSA = 0x1057;

let addon: Pkcs11Module | null = null;

/** The pkcs11js module; `config` error with what to do when the native addon is missing. */
export function pkcs11js(): Pkcs11Module {
  if (addon !== null) return addon;
  try {
    addon = createRequire(import.meta.url)('pkcs11js') as Pkcs11Module;
  } catch (e) {
    throw new SumkeepError(
      'config',
      `the pkcs11js native addon is not available (${(e as Error).message.split('\n')[0]}): run \`npm ci\` on a machine with a C++ compiler (g++, make, python3)`,
      { cause: e },
    );
  }
  return addon;
}

/** "CKR_PIN_INCORRECT" for a Pkcs11Error, or the first line of another error's message. */
export function ckrName(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return /CKR_[A-Z0-9_]+/.exec(msg)?.[0] ?? msg.split('\n')[0]!.slice(0, 200);
}

/** The CK_RV of a Pkcs11Error, or null for any other error. */
export function ckrCode(e: unknown): number | null {
  const c = (e as { code?: unknown })?.code;
  return typeof c === 'number' && e instanceof Error && e.name === 'Pkcs11Error' ? c : null;
}

export class Pkcs11Library {
  private static readonly loaded = new Map<string, Pkcs11Library>();

  readonly modulePath: string;
  /** Incremented by every reset(); sessions opened under an older generation are gone. */
  generation = 0;
  private api: Pkcs11Api | null = null;
  private initialized = false;

  private constructor(modulePath: string) {
    this.modulePath = modulePath;
  }

  /** The library at `modulePath`, loaded and initialized once per process. */
  static get(modulePath: string): Pkcs11Library {
    let lib = Pkcs11Library.loaded.get(modulePath);
    if (lib === undefined) {
      lib = new Pkcs11Library(modulePath);
      Pkcs11Library.loaded.set(modulePath, lib);
    }
    return lib;
  }

  /** Finalizes every library this process loaded (tests and benchmarks; serve just exits). */
  static closeAll(): void {
    for (const lib of Pkcs11Library.loaded.values()) lib.finalize();
    Pkcs11Library.loaded.clear();
  }

  /** The initialized API; loads the library on first use (`config` error naming it if it cannot). */
  p11(): Pkcs11Api {
    if (this.api !== null && this.initialized) return this.api;
    const m = pkcs11js();
    if (this.api === null) {
      const api = new m.PKCS11();
      try {
        api.load(this.modulePath);
      } catch (e) {
        throw new SumkeepError(
          'config',
          `cannot load the PKCS#11 library ${this.modulePath} (module-path): ${ckrName(e)}`,
          { cause: e },
        );
      }
      this.api = api;
    }
    try {
      this.api.C_Initialize();
    } catch (e) {
      if (ckrCode(e) !== m.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
        throw new SumkeepError('unavailable', `the PKCS#11 library failed to initialize: ${ckrName(e)}`, {
          cause: e,
        });
      }
    }
    this.initialized = true;
    return this.api;
  }

  /** C_Finalize then C_Initialize again (see the file comment). */
  reset(): void {
    this.finalize();
    this.generation++;
    this.p11();
  }

  private finalize(): void {
    if (this.api === null || !this.initialized) return;
    this.initialized = false;
    try {
      this.api.C_Finalize();
    } catch {
      // A library that lost its token may refuse to finalize cleanly; it is initialized again anyway.
    }
  }
}
