import { describe, expect, it } from 'vitest';
import { unpickle, type PickleEnvironment } from '../../src/io/pickle.js';
import { PickleDict, PickleTuple, type PickleValue } from '../../src/io/pickle-values.js';
import { pickleBytes, str } from './helpers/zip-builder.js';

let called = 0;
/** Allows one harmless callable so REDUCE paths can be tested; counts calls. */
const env: PickleEnvironment = {
  globals: new Map([['collections.OrderedDict', { call: () => (called++, new PickleDict()) }]]),
};

const load = (...parts: Parameters<typeof pickleBytes>): PickleValue =>
  unpickle(pickleBytes(...parts), env, 'test.pkl');

describe('restricted unpickler: data', () => {
  it('builds dicts, lists, tuples and scalars', () => {
    // {'a': [1, 300, -5, True, None], 'b': (2.5, 'é', b'\x01')}
    const value = load(
      [0x80, 2],
      '}q',
      [0],
      '(',
      str('a'),
      ']',
      '(',
      [0x4b, 1],
      [0x4d, 0x2c, 0x01],
      'J',
      [0xfb, 0xff, 0xff, 0xff],
      [0x88],
      'N',
      'e',
      str('b'),
      'G',
      [0x40, 0x04, 0, 0, 0, 0, 0, 0],
      str('é'),
      'C',
      [1, 1],
      [0x87],
      'u.',
    );
    expect(value).toBeInstanceOf(PickleDict);
    const dict = value as PickleDict;
    expect(dict.entries.get('a')).toEqual([1, 300, -5, true, null]);
    const b = dict.entries.get('b') as PickleTuple;
    expect(b.items.slice(0, 2)).toEqual([2.5, 'é']);
    expect(Array.from(b.items[2] as Uint8Array)).toEqual([1]);
  });

  it('LONG1 gives numbers when safe and bigints beyond 2^53', () => {
    expect(load([0x80, 2, 0x8a, 2, 0xff, 0x7f], '.')).toBe(32767);
    expect(load([0x8a, 1, 0xff], '.')).toBe(-1);
    expect(load([0x8a, 0], '.')).toBe(0);
    expect(load([0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1], '.')).toBe(2n ** 64n);
  });

  it('memo, DUP and shared references', () => {
    const value = load(']q', [0], 'h', [0], 'a.'); // a list that contains itself
    expect(Array.isArray(value) && value[0] === value).toBe(true);
  });

  it('calls only allowed globals through REDUCE', () => {
    called = 0;
    expect(load('ccollections\nOrderedDict\n)R.')).toBeInstanceOf(PickleDict);
    expect(called).toBe(1);
  });
});

describe('restricted unpickler: rejections', () => {
  const cases: [string, Parameters<typeof pickleBytes>, RegExp][] = [
    [
      'os.system via GLOBAL',
      ['cos\nsystem\n', str('echo pwned'), [0x85], 'R.'],
      /test.pkl: pickle references forbidden global 'os.system'.*\(pickle byte 0\)/,
    ],
    [
      'posix.system via STACK_GLOBAL',
      [[0x80, 4], str('posix'), str('system'), [0x93], '.'],
      /forbidden global 'posix.system'/,
    ],
    ['builtins.exec', ['cbuiltins\nexec\n.'], /forbidden global 'builtins.exec'/],
    ['__builtin__.getattr', ['c__builtin__\ngetattr\n.'], /forbidden global '__builtin__.getattr'/],
    ['torch.load is not whitelisted just for being torch', ['ctorch\nload\n.'], /forbidden global 'torch.load'/],
    ['NEWOBJ', ['ccollections\nOrderedDict\n)', [0x81], '.'], /unsupported pickle opcode 0x81 \(pickle byte 26\)/],
    ['INST', ['(ios\nsystem\n.'], /unsupported pickle opcode 0x69/],
    ['OBJ', ['(ccollections\nOrderedDict\no.'], /unsupported pickle opcode 0x6f/],
    ['EXT1', [[0x82, 1], '.'], /unsupported pickle opcode 0x82/],
    ['text-mode INT', ['I1\n.'], /unsupported pickle opcode 0x49/],
    ['protocol 6', [[0x80, 6], 'N.'], /unsupported pickle protocol 6/],
    [
      'string longer than the data',
      ['X', [0xff, 0xff, 0xff, 0x7f], 'abc'],
      /pickle truncated: needs 2147483647 more bytes/,
    ],
    [
      'BINUNICODE8 with a huge length',
      [[0x8d, 0, 0, 0, 0, 0, 0, 0, 0x80]],
      /length 9223372036854775808 exceeds the pickle size/,
    ],
    ['invalid UTF-8', ['X', [2, 0, 0, 0, 0xc3, 0x28], '.'], /string is not valid UTF-8/],
    ['no STOP', ['N'], /pickle ended without STOP/],
    ['STOP on an empty stack', ['.'], /pickle stack underflow/],
    ['extra items at STOP', ['NN.'], /STOP with 1 extra items on the stack/],
    ['TUPLE without MARK', ['Nt.'], /no MARK on the pickle stack/],
    ['POP across a MARK', ['N(0.'], /pickle stack underflow/],
    ['undefined memo', ['h', [5], '.'], /memo entry 5 is not defined/],
    ['APPEND to a dict', ['}Na.'], /APPEND\(S\) on a dict, not a list/],
    ['SETITEM on a list', [']NNs.'], /SETITEM\(S\) on a list, not a dict/],
    ['REDUCE on a string', [str('os'), ')R.'], /REDUCE on a str/],
    [
      'REDUCE with non-tuple args',
      ['ccollections\nOrderedDict\nNR.'],
      /REDUCE arguments for 'collections.OrderedDict' are a None, not a tuple/,
    ],
    ['persistent id without a loader', ['NQ.'], /persistent ids are not allowed here/],
  ];
  for (const [name, parts, message] of cases) {
    it(name, () => {
      called = 0;
      expect(() => load(...parts)).toThrow(message);
      expect(called).toBe(0);
    });
  }
});
