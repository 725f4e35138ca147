/**
 * Size and count limits for module zips. The first four are the go command's own
 * (golang.org/x/mod/zip MaxZipFile, MaxGoMod, MaxLICENSE); maxFiles is sumkeep's: Go has no entry
 * count limit (the 500 MiB file size bounds it near 7 million entries), but every entry costs the
 * reader a name, a digest and collision-check keys in memory, so sumkeep stops well below that.
 */
export interface ZipLimits {
  /** Largest zip file, in bytes (the file itself, i.e. everything compressed). */
  maxZipBytes: number;
  /** Largest sum of the declared uncompressed sizes of all file entries. */
  maxContentBytes: number;
  /** Largest `<prefix>go.mod`, uncompressed. */
  maxGoModBytes: number;
  /** Largest `<prefix>LICENSE`, uncompressed. */
  maxLicenseBytes: number;
  /** Most entries (files and directories) in one zip. */
  maxFiles: number;
}

const MiB = 1024 * 1024;

export const DEFAULT_ZIP_LIMITS: Readonly<ZipLimits> = Object.freeze({
  maxZipBytes: 500 * MiB,
  maxContentBytes: 500 * MiB,
  maxGoModBytes: 16 * MiB,
  maxLicenseBytes: 16 * MiB,
  // A real module with this many files would be ~10x the largest seen in the wild; the reader keeps
  // ~200-400 bytes per entry (plus its name), so this bounds memory at a few hundred MB.
  maxFiles: 1_000_000,
});
