import { DataErrors } from '../errors.js';

/**
 * Text-format parsers shared by both engines, so PGlite and PostgreSQL return the same JS
 * types: int2/int4/int8/oid → number (int8 beyond 2^53 throws), float → number, numeric → string,
 * bool, json/jsonb → parsed, bytea → Buffer, timestamptz/timestamp → Date (timestamp read as UTC),
 * date → 'YYYY-MM-DD' string, uuid/text → string.
 */
type Parser = (text: string) => unknown;

const parseInteger: Parser = (x) => Number.parseInt(x, 10);

const parseInt8: Parser = (x) => {
  const n = Number(x);
  if (!Number.isSafeInteger(n)) throw DataErrors.INT8_OUT_OF_RANGE(x);
  return n;
};

const parseFloatValue: Parser = (x) => Number.parseFloat(x);
const parseBool: Parser = (x) => x === 't' || x === 'true';
const parseJson: Parser = (x) => JSON.parse(x);
const identity: Parser = (x) => x;

const parseBytea: Parser = (x) => {
  if (x.startsWith('\\x')) return Buffer.from(x.slice(2), 'hex');
  // bytea_output = 'escape': octal escapes and doubled backslashes.
  const out: number[] = [];
  for (let i = 0; i < x.length; i++) {
    if (x[i] === '\\' && x[i + 1] === '\\') {
      out.push(92);
      i++;
    } else if (x[i] === '\\') {
      out.push(Number.parseInt(x.slice(i + 1, i + 4), 8));
      i += 3;
    } else out.push(x.charCodeAt(i));
  }
  return Buffer.from(out);
};

const TIMESTAMP =
  /^(\d{4,})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(\.\d+)?(?:(Z)|([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?)?( BC)?$/;

/** timestamptz, and timestamp without time zone read as UTC (both engines run with TimeZone=UTC). */
const parseTimestamp: Parser = (x) => {
  if (x === 'infinity') return new Date(8.64e15);
  if (x === '-infinity') return new Date(-8.64e15);
  const m = TIMESTAMP.exec(x);
  if (!m) return new Date(x);
  let year = Number(m[1]);
  if (m[13]) year = 1 - year;
  const ms = m[7] ? Math.round(Number(m[7]) * 1000) : 0;
  const utc = Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), ms);
  const date = new Date(utc);
  if (year < 100) date.setUTCFullYear(year); // Date.UTC maps years 0-99 to 1900-1999
  if (!m[9]) return date;
  const sign = m[9] === '-' ? -1 : 1;
  const offsetMs = sign * ((Number(m[10]) * 60 + Number(m[11] ?? 0)) * 60 + Number(m[12] ?? 0)) * 1000;
  return new Date(date.getTime() - offsetMs);
};

/** Scalar parsers by type OID. */
export const SCALAR_PARSERS: Readonly<Record<number, Parser>> = {
  16: parseBool,
  17: parseBytea,
  20: parseInt8,
  21: parseInteger,
  23: parseInteger,
  26: parseInteger,
  114: parseJson,
  700: parseFloatValue,
  701: parseFloatValue,
  1082: identity,
  1114: parseTimestamp,
  1184: parseTimestamp,
  1700: identity,
  3802: parseJson,
};

/** Array type OID → element type OID, for the arrays whose elements have a parser above. */
const ARRAY_ELEMENTS: Readonly<Record<number, number>> = {
  1000: 16,
  1001: 17,
  1016: 20,
  1005: 21,
  1007: 23,
  1028: 26,
  199: 114,
  1021: 700,
  1022: 701,
  1182: 1082,
  1115: 1114,
  1185: 1184,
  1231: 1700,
  3807: 3802,
};

/**
 * Parses a PostgreSQL array literal (`{1,2,NULL}`, `{"a b","c\"d"}`, nested `{{1},{2}}`).
 * Only used for the PostgreSQL engine: PGlite applies element parsers to arrays itself.
 */
export function parseArray(text: string, element: Parser): unknown[] {
  let i = 0;
  // Skip explicit bounds like `[1:2]={…}`.
  if (text[0] === '[') i = text.indexOf('=') + 1;
  const parseLevel = (): unknown[] => {
    const out: unknown[] = [];
    i++; // '{'
    while (i < text.length) {
      const ch = text[i];
      if (ch === '}') {
        i++;
        return out;
      }
      if (ch === ',') {
        i++;
        continue;
      }
      if (ch === '{') {
        out.push(parseLevel());
        continue;
      }
      if (ch === '"') {
        let value = '';
        i++;
        while (i < text.length && text[i] !== '"') {
          if (text[i] === '\\') i++;
          value += text[i];
          i++;
        }
        i++;
        out.push(element(value));
        continue;
      }
      let end = i;
      while (end < text.length && text[end] !== ',' && text[end] !== '}') end++;
      const raw = text.slice(i, end);
      out.push(raw === 'NULL' ? null : element(raw));
      i = end;
    }
    return out;
  };
  return parseLevel();
}

/** The parser of one type OID for the PostgreSQL engine, or undefined for pg's default. */
export function pgParserFor(oid: number): Parser | undefined {
  const scalar = SCALAR_PARSERS[oid];
  if (scalar) return scalar;
  const element = ARRAY_ELEMENTS[oid];
  if (element === undefined) return undefined;
  const parse = SCALAR_PARSERS[element] ?? identity;
  return (x) => parseArray(x, parse);
}
