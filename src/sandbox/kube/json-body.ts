/**
 * Large JSON bodies (a page of a list) written straight into a reused buffer: each item is
 * JSON.stringify'd on its own and encoded in with TextEncoder.encodeInto. Measured on 500-pod
 * pages (1.3 MB), this costs about half of one JSON.stringify of the whole page followed by
 * Buffer.from: V8 returns a large stringify result as a rope that has to be flattened, Buffer.from
 * encodes it through a slower path, and a fresh megabyte-sized buffer per page costs page faults.
 */

/** Buffers handed back once the socket has written them (see `release`). */
const pool: Buffer[] = [];
const POOL_SIZE = 4;
const MAX_POOLED = 16 * 1024 * 1024;
const MIN_SIZE = 256 * 1024;
const encoder = new TextEncoder();

/**
 * Encoded list items are kept in arenas of 1 MiB, outside the JavaScript heap (a copy costs
 * little next to encoding; one allocation serves some 400 pods; the collector never walks the
 * bytes). An arena is freed once no entry refers to it any more: after its objects changed or
 * went, or the sandbox stopped.
 */
const ARENA = 1024 * 1024;
let arena = Buffer.allocUnsafeSlow(ARENA);
let arenaAt = 0;

function keepBytes(src: Buffer, start: number, end: number): { buf: Buffer; at: number; length: number } {
  const length = end - start;
  // A large item gets its own buffer, so that arenas stay densely used.
  if (length > ARENA / 8) {
    const own = Buffer.allocUnsafeSlow(length);
    src.copy(own, 0, start, end);
    return { buf: own, at: 0, length };
  }
  if (arenaAt + length > arena.length) {
    arena = Buffer.allocUnsafeSlow(ARENA);
    arenaAt = 0;
  }
  const at = arenaAt;
  src.copy(arena, at, start, end);
  arenaAt += length;
  return { buf: arena, at, length };
}

export class JsonBodyWriter {
  private buf: Buffer;
  private at = 0;

  constructor() {
    this.buf = pool.pop() ?? Buffer.allocUnsafeSlow(MIN_SIZE);
  }

  /** Append JSON text (already encoded by JSON.stringify, or literal punctuation). */
  text(s: string): void {
    // A UTF-16 code unit takes at most 3 bytes in UTF-8: with that much room, one call encodes it all.
    if (this.at + s.length * 3 > this.buf.length) this.grow(this.at + s.length * 3);
    this.at += encoder.encodeInto(s, this.buf.subarray(this.at)).written;
  }

  /** Append text known to be ASCII (punctuation). */
  ascii(s: string): void {
    if (this.at + s.length > this.buf.length) this.grow(this.at + s.length);
    this.at += this.buf.write(s, this.at, 'latin1');
  }

  /** Bytes written so far. */
  get length(): number {
    return this.at;
  }

  /** Append `length` bytes of `src` from `from` (an item encoded before; see `keep`). */
  copy(src: Buffer, from: number, length: number): void {
    if (this.at + length > this.buf.length) this.grow(this.at + length);
    this.at += src.copy(this.buf, this.at, from, from + length);
  }

  /** Keep a copy of the bytes written since `start` (one item) in the shared arena. */
  keep(start: number): { buf: Buffer; at: number; length: number } {
    return keepBytes(this.buf, start, this.at);
  }

  /** Append `JSON.stringify(v)`. */
  json(v: unknown): void {
    this.text(JSON.stringify(v) ?? 'null');
  }

  /**
   * The body, and the function to call once it has been written (it returns the buffer to the
   * pool). A body never released (a dropped connection) is left to the garbage collector.
   */
  finish(): { body: Buffer; release: () => void } {
    const buf = this.buf;
    let released = false;
    return {
      body: buf.subarray(0, this.at),
      release: () => {
        if (released) return;
        released = true;
        if (buf.length <= MAX_POOLED && pool.length < POOL_SIZE) pool.push(buf);
      },
    };
  }

  private grow(need: number): void {
    const next = Buffer.allocUnsafeSlow(Math.max(need, this.buf.length * 2));
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
  }
}
