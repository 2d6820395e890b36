/**
 * A minimal Thrift Compact Protocol writer, enough for Parquet's footer and page headers
 * (apache/thrift doc/specs/thrift-compact-protocol.md; the Parquet structs are in
 * apache/parquet-format src/main/thrift/parquet.thrift). Writes structs, lists, bool, i32, i64
 * and binary fields; integers are JS numbers (safe integers), never bigints.
 */

/** Compact Protocol type ids, as written in field and list headers. */
export const CompactType = {
  BOOLEAN_TRUE: 1,
  BOOLEAN_FALSE: 2,
  I32: 5,
  I64: 6,
  BINARY: 8,
  LIST: 9,
  STRUCT: 12,
} as const;

/** One of the compact type ids this writer emits. */
export type CompactTypeId = (typeof CompactType)[keyof typeof CompactType];

const TWO_POW_32 = 4_294_967_296;
const utf8 = new TextEncoder();

/**
 * Appends Compact Protocol bytes to a growing buffer. Usage: `beginStruct()`, fields, nested
 * `begin*`/`endStruct()` pairs, `endStruct()`, then `toBytes()`. Field ids inside each struct
 * must increase (the protocol writes them as deltas); a decrease throws Error (a programming
 * error, never bad data). Integer values must be safe integers; others throw RangeError.
 */
export class ThriftCompactWriter {
  private bytes = new Uint8Array(1024);
  private length = 0;
  private lastFieldId = 0;
  private readonly outerFieldIds: number[] = [];

  /** Opens a struct at the top level or as a list element (no field header). */
  beginStruct(): void {
    this.outerFieldIds.push(this.lastFieldId);
    this.lastFieldId = 0;
  }

  /** Opens a struct-valued field `fieldId` of the current struct. */
  beginStructField(fieldId: number): void {
    this.fieldHeader(fieldId, CompactType.STRUCT);
    this.beginStruct();
  }

  /** Writes the stop byte of the innermost open struct and returns to its parent. */
  endStruct(): void {
    this.byte(0);
    const outer = this.outerFieldIds.pop();
    if (outer === undefined) throw new Error('thrift-compact: endStruct without an open struct');
    this.lastFieldId = outer;
  }

  /** Opens a list field of `size` elements of `elementType`; write exactly `size` elements next. */
  beginListField(fieldId: number, elementType: CompactTypeId, size: number): void {
    this.fieldHeader(fieldId, CompactType.LIST);
    if (size < 15) {
      this.byte((size << 4) | elementType);
    } else {
      this.byte(0xf0 | elementType);
      this.varint(size);
    }
  }

  /** A bool field: the compact protocol folds the value into the field header's type. */
  boolField(fieldId: number, value: boolean): void {
    this.fieldHeader(fieldId, value ? CompactType.BOOLEAN_TRUE : CompactType.BOOLEAN_FALSE);
  }

  i32Field(fieldId: number, value: number): void {
    this.fieldHeader(fieldId, CompactType.I32);
    this.i32(value);
  }

  i64Field(fieldId: number, value: number): void {
    this.fieldHeader(fieldId, CompactType.I64);
    this.varint(zigzag(value));
  }

  binaryField(fieldId: number, value: Uint8Array): void {
    this.fieldHeader(fieldId, CompactType.BINARY);
    this.binary(value);
  }

  stringField(fieldId: number, value: string): void {
    this.binaryField(fieldId, utf8.encode(value));
  }

  /** An i32 list element (also enums, which Thrift writes as i32). */
  i32(value: number): void {
    if (!Number.isInteger(value) || value < -0x8000_0000 || value > 0x7fff_ffff) {
      throw new RangeError(`thrift-compact: ${value} is not an i32`);
    }
    this.varint(zigzag(value));
  }

  /** A string list element. */
  string(value: string): void {
    this.binary(utf8.encode(value));
  }

  /** The bytes written so far (a copy). */
  toBytes(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }

  private binary(value: Uint8Array): void {
    this.varint(value.byteLength);
    this.reserve(value.byteLength);
    this.bytes.set(value, this.length);
    this.length += value.byteLength;
  }

  private fieldHeader(fieldId: number, type: CompactTypeId): void {
    const delta = fieldId - this.lastFieldId;
    if (delta <= 0) throw new Error(`thrift-compact: field id ${fieldId} after ${this.lastFieldId}`);
    if (delta <= 15) {
      this.byte((delta << 4) | type);
    } else {
      this.byte(type);
      this.varint(zigzag(fieldId));
    }
    this.lastFieldId = fieldId;
  }

  /** ULEB128 of a non-negative safe integer, by arithmetic so values above 2^32 stay exact. */
  private varint(value: number): void {
    this.reserve(10);
    let rest = value;
    while (rest >= 0x80) {
      this.bytes[this.length++] = (rest % 0x80) | 0x80;
      rest = rest >= TWO_POW_32 ? Math.floor(rest / 0x80) : rest >>> 7;
    }
    this.bytes[this.length++] = rest;
  }

  private byte(value: number): void {
    this.reserve(1);
    this.bytes[this.length++] = value;
  }

  private reserve(count: number): void {
    if (this.length + count <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + count));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }
}

/** Zigzag of a safe integer as a non-negative number: 0, -1, 1, -2 … → 0, 1, 2, 3 …; exact below 2^52 in magnitude. */
function zigzag(value: number): number {
  if (!Number.isSafeInteger(value) || Math.abs(value) >= 2 ** 52) {
    throw new RangeError(`thrift-compact: ${value} is outside the integers this writer encodes exactly`);
  }
  return value >= 0 ? value * 2 : -value * 2 - 1;
}
