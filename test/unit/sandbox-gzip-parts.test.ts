/**
 * The sandbox's gzip member made of separately compressed parts (src/sandbox/gzip-parts.ts): it
 * decodes to the parts' data in order, it is ONE member (one deflate stream: a client that reads
 * only the first member still gets everything), and its trailer is the one zlib writes for the
 * same data.
 */
import { randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, crc32Combine, deflatePart, gzipMember, storedPart } from '../../src/sandbox/gzip-parts.js';

const trailerOf = (gz: Buffer) => gz.subarray(gz.length - 8);

describe('gzip members from parts', () => {
  const head = Buffer.from('{"kind":"PodList","apiVersion":"v1","metadata":{"continue":"abc"},"items":[');
  const items = Buffer.concat(Array.from({ length: 2000 }, (_, i) => Buffer.from(`${i ? ',' : ''}{"metadata":{"name":"pod-${i}","uid":"${randomBytes(8).toString('hex')}"}}`)));
  const tail = Buffer.from(']}');
  const whole = Buffer.concat([head, items, tail]);

  it('computes the CRC-32 zlib writes in a gzip trailer, and combines two CRCs as zlib does', () => {
    for (const data of [Buffer.alloc(0), Buffer.from('a'), whole, randomBytes(100_003)]) {
      expect(crc32(data)).toBe(trailerOf(gzipSync(data)).readUInt32LE(0));
    }
    const a = randomBytes(70_001);
    const b = randomBytes(12_345);
    expect(crc32Combine(crc32(a), crc32(b), b.length)).toBe(crc32(Buffer.concat([a, b])));
    expect(crc32Combine(crc32(a), crc32(Buffer.alloc(0)), 0)).toBe(crc32(a));
    expect(crc32Combine(0, crc32(b), b.length)).toBe(crc32(b));
  });

  it('decodes to the parts in order, as one member with zlib\'s trailer', async () => {
    const member = Buffer.concat(gzipMember([storedPart(head), await deflatePart(items, 1), storedPart(tail)]));
    expect(gunzipSync(member).equals(whole)).toBe(true);
    // One deflate stream from the 10-byte header to the 8-byte trailer holds all of it.
    expect(inflateRawSync(member.subarray(10, member.length - 8)).equals(whole)).toBe(true);
    expect(trailerOf(member).equals(trailerOf(gzipSync(whole)))).toBe(true);
    // The same compressed part serves again behind another head.
    const other = Buffer.from('{"metadata":{"continue":"xyz"},"items":[');
    const again = Buffer.concat(gzipMember([storedPart(other), await deflatePart(items, 1), storedPart(tail)]));
    expect(gunzipSync(again).equals(Buffer.concat([other, items, tail]))).toBe(true);
  });

  it('stores parts larger than a stored block holds (65,535 bytes) in several blocks', async () => {
    const big = randomBytes(200_000);
    const member = Buffer.concat(gzipMember([storedPart(big), await deflatePart(items, 1), storedPart(big.subarray(0, 65_535))]));
    const expected = Buffer.concat([big, items, big.subarray(0, 65_535)]);
    expect(inflateRawSync(member.subarray(10, member.length - 8)).equals(expected)).toBe(true);
    expect(trailerOf(member).equals(trailerOf(gzipSync(expected)))).toBe(true);
  });

  it('handles empty parts and no parts', () => {
    expect(gunzipSync(Buffer.concat(gzipMember([]))).length).toBe(0);
    const member = Buffer.concat(gzipMember([storedPart(Buffer.alloc(0)), storedPart(tail), storedPart(Buffer.alloc(0))]));
    expect(gunzipSync(member).toString()).toBe(']}');
  });
});
