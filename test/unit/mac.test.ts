import assert from 'node:assert/strict'
import { macFor } from '../../src/network/attach.js'

describe('network: interface MAC addresses', () => {
  it('derives the MAC from the IPv4 address, so a container recreated on the same address keeps it', () => {
    assert.equal(macFor('10.200.1.3'), '02:42:0a:c8:01:03')
    assert.equal(macFor('172.16.255.254'), '02:42:ac:10:ff:fe')
  })
})
