/**
 * One gzip member (RFC 1952) assembled from separately compressed parts, so that the part of an
 * answer that repeats from call to call (a list page's items) is compressed once and kept, and
 * the few bytes that change (the page's head: its continue token) go as stored blocks.
 *
 * Each part is a raw deflate stream (RFC 1951) ended by a sync flush: its last block is not
 * final and it ends on a byte boundary, so the parts can follow one another; an empty final
 * block closes the stream, and the trailer holds the CRC-32 of all the data, combined from the
 * parts' own CRCs (zlib's crc32_combine, whose method is ported here: Node 20 has no zlib.crc32).
 * The result is one member, as kube-apiserver's Go gzip writer sends, not a series of members,
 * which some clients read only the first of.
 */
import { constants, deflateRaw } from 'node:zlib';

/** A raw deflate stream ended by a sync flush, with the CRC-32 and length of the data it holds. */
export interface DeflatedPart {
  readonly deflated: Buffer;
  readonly crc: number;
  readonly length: number;
}

/** gzip's header: deflate, no flags, no modification time, no extra flags, operating system unknown. */
const HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff]);
/** An empty fixed-Huffman block with BFINAL set: the end of the deflate stream. */
const FINAL_BLOCK = Buffer.from([0x03, 0x00]);

const OPTIONS = (level: number) => ({ level, finishFlush: constants.Z_SYNC_FLUSH });

/**
 * `data` as a part of stored (uncompressed) deflate blocks: for the few bytes that change per
 * call (a page's head), where setting up a compressor would cost more than it saves.
 */
export function storedPart(data: Uint8Array): DeflatedPart {
  const blocks: Buffer[] = [];
  for (let at = 0; at < data.length || blocks.length === 0; at += STORED_MAX) {
    const chunk = data.subarray(at, Math.min(data.length, at + STORED_MAX));
    // BFINAL 0, BTYPE 00 and the padding to the byte boundary, then LEN and its complement NLEN.
    const head = Buffer.from([0x00, chunk.length & 0xff, chunk.length >>> 8, ~chunk.length & 0xff, (~chunk.length >>> 8) & 0xff]);
    blocks.push(head, Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }
  return { deflated: Buffer.concat(blocks), crc: crc32(data), length: data.length };
}
const STORED_MAX = 0xffff;

/** `data` compressed as a part on libuv's thread pool (its CRC is computed here meanwhile). */
export function deflatePart(data: Uint8Array, level: number): Promise<DeflatedPart> {
  return new Promise((resolve, reject) => {
    let crc = 0;
    deflateRaw(data, OPTIONS(level), (err, deflated) => (err ? reject(err) : resolve({ deflated, crc, length: data.length })));
    // Computed while the thread pool compresses (the callback comes after this returns).
    crc = crc32(data);
  });
}

/** The gzip member holding the parts' data in order, as buffers to write one after another. */
export function gzipMember(parts: readonly DeflatedPart[]): Buffer[] {
  let crc = 0;
  let length = 0;
  for (const p of parts) {
    crc = crc32Combine(crc, p.crc, p.length);
    length += p.length;
  }
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(length % 2 ** 32, 4);
  return [HEADER, ...parts.map((p) => p.deflated), FINAL_BLOCK, trailer];
}

const POLY = 0xedb88320;
const TABLE = new Int32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
  TABLE[n] = c;
}

/** The CRC-32 (ISO-HDLC, as gzip's trailer holds it) of `data`, unsigned. */
export function crc32(data: Uint8Array): number {
  let c = -1;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** a(x) * b(x) modulo the CRC polynomial (zlib's multmodp; bit 31 is x^0). `a` is not 0. */
function multmodp(a: number, b: number): number {
  let m = 0x80000000;
  let p = 0;
  for (;;) {
    if ((a & m) !== 0) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return p >>> 0;
}

/** X2N[k] = x^(2^k) modulo the polynomial (zlib's x2n_table). */
const X2N: number[] = [];
for (let k = 0, p = 0x40000000; k < 32; k++, p = multmodp(p, p)) X2N.push(p >>> 0);

/** x^(n * 2^k) modulo the polynomial (zlib's x2nmodp). */
function x2nmodp(n: number, k: number): number {
  let p = 0x80000000;
  while (n > 0) {
    if (n % 2 === 1) p = multmodp(X2N[k & 31]!, p);
    n = Math.floor(n / 2);
    k++;
  }
  return p;
}

/** The CRC-32 of A followed by B, from A's CRC, B's CRC and B's length (zlib's crc32_combine). */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  return (multmodp(x2nmodp(lengthB, 3), crcA) ^ crcB) >>> 0;
}
