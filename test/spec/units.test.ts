import assert from 'node:assert/strict'
import { formatDuration, parseBytes, parseDuration } from '../../src/spec/units.js'

describe('durations and byte sizes', () => {
  it('parses Go durations to milliseconds', () => {
    assert.equal(parseDuration('1h2m3s4ms'), 3_723_004)
    assert.equal(parseDuration('1.5s'), 1500)
    assert.equal(parseDuration('500us'), 0.5)
    assert.equal(parseDuration('0'), 0)
    assert.equal(parseDuration('30'), undefined)
    assert.equal(parseDuration('3 days'), undefined)
  })

  it('prints milliseconds as Go does', () => {
    assert.equal(formatDuration(90_000), '1m30s')
    assert.equal(formatDuration(1500), '1.5s')
    assert.equal(formatDuration(250), '250ms')
    assert.equal(formatDuration(3_600_000), '1h0m0s')
    assert.equal(formatDuration(0), '0s')
  })

  it('parses byte sizes in powers of 1024, any case', () => {
    assert.equal(parseBytes('512m'), 512 * 1024 ** 2)
    assert.equal(parseBytes('1G'), 1024 ** 3)
    assert.equal(parseBytes('100kb'), 102_400)
    assert.equal(parseBytes('1.5g'), 1.5 * 1024 ** 3)
    assert.equal(parseBytes('2048'), 2048)
    assert.equal(parseBytes(4096), 4096)
    assert.equal(parseBytes('12x'), undefined)
  })
})
