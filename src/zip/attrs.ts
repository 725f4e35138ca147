/**
 * What kind of file a zip entry claims to be, from "version made by" and the external attributes
 * (read as Go's archive/zip FileHeader.Mode reads them):
 *  - made on Unix (3) or macOS (19): the high 16 bits are a Unix st_mode; its S_IFMT type bits say
 *    regular, directory, symlink or something irregular; no type bits at all means regular;
 *  - made on MS-DOS/FAT (0), NTFS (11) or VFAT (14): attribute bit 0x10 means directory;
 *  - anything else carries no type.
 * A name ending in "/" is a directory entry whatever the attributes say.
 */

export type EntryKind = 'regular' | 'dir' | 'symlink' | 'irregular';

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

const CREATOR_FAT = 0;
const CREATOR_UNIX = 3;
const CREATOR_NTFS = 11;
const CREATOR_VFAT = 14;
const CREATOR_MACOSX = 19;

const MSDOS_DIR = 0x10;

/** The kind the attributes claim, ignoring the name. */
export function attributeKind(versionMadeBy: number, externalAttributes: number): EntryKind {
  const creator = (versionMadeBy >>> 8) & 0xff;
  switch (creator) {
    case CREATOR_UNIX:
    case CREATOR_MACOSX: {
      const type = (externalAttributes >>> 16) & S_IFMT;
      if (type === 0 || type === S_IFREG) return 'regular';
      if (type === S_IFDIR) return 'dir';
      if (type === S_IFLNK) return 'symlink';
      return 'irregular';
    }
    case CREATOR_FAT:
    case CREATOR_NTFS:
    case CREATOR_VFAT:
      return externalAttributes & MSDOS_DIR ? 'dir' : 'regular';
    default:
      return 'regular';
  }
}
