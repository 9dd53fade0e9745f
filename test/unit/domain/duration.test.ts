import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDuration } from '../../../core/domain/duration';

const cases: Array<[string, number | undefined]> = [
  ['90', 90], ['90s', 90], ['15m', 900], ['2h', 7200], ['1h30m', 5400], ['1d', 86400],
  ['0', undefined], ['0m', undefined], ['', undefined], ['15 m', undefined], ['1.5h', undefined], ['m', undefined], ['-5m', undefined], ['5w', undefined],
];
for (const [text, seconds] of cases) test(`parseDuration(${JSON.stringify(text)}) is ${seconds}`, () => assert.equal(parseDuration(text), seconds));
