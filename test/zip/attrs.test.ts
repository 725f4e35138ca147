import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { attributeKind, type EntryKind } from '../../src/zip/attrs.ts';

const unix = (mode: number): [number, number] => [(3 << 8) | 20, (mode << 16) >>> 0];

describe('attributeKind', () => {
  const cases: Array<[string, [number, number], EntryKind]> = [
    ['Go writer default (FAT, no attributes)', [20, 0], 'regular'],
    ['Unix regular file 0644', unix(0o100644), 'regular'],
    ['Unix mode without type bits', unix(0o644), 'regular'],
    ['Unix directory', unix(0o040755), 'dir'],
    ['Unix symlink', unix(0o120777), 'symlink'],
    ['Unix fifo', unix(0o010644), 'irregular'],
    ['Unix character device', unix(0o020644), 'irregular'],
    ['Unix block device', unix(0o060644), 'irregular'],
    ['Unix socket', unix(0o140755), 'irregular'],
    ['macOS symlink', [(19 << 8) | 20, (0o120755 << 16) >>> 0], 'symlink'],
    ['MS-DOS directory attribute', [20, 0x10], 'dir'],
    ['NTFS directory attribute', [(11 << 8) | 20, 0x10], 'dir'],
    ['VFAT archive attribute', [(14 << 8) | 20, 0x20], 'regular'],
    ['unknown creator with Unix-looking bits', [(7 << 8) | 20, (0o120777 << 16) >>> 0], 'regular'],
  ];
  for (const [name, [made, ext], want] of cases) {
    it(`${name} -> ${want}`, () => assert.equal(attributeKind(made, ext), want));
  }
});
