import NIOCore
import Swiftcask

/// EXPIRE family, TTL family and PERSIST.
extension ClientSession {
    /// EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT key amount [NX | XX | GT | LT]
    func expire(unitMillis: Int, absolute: Bool) throws(StoreError) {
        let key = argv.slice(at: 1)
        let command = argv.slice(at: 0).text.lowercased()
        var nx = false, xx = false, gt = false, lt = false
        for option in argv.dropFirst(3) {
            if option.equalsIgnoringCase("NX") { nx = true }
            else if option.equalsIgnoringCase("XX") { xx = true }
            else if option.equalsIgnoringCase("GT") { gt = true }
            else if option.equalsIgnoringCase("LT") { lt = true }
            else {
                replyError("ERR Unsupported option \(option.text)")
                return
            }
        }
        if nx && (xx || gt || lt) {
            replyError(ErrorReply.nxXxGtLt)
            return
        }
        if gt && lt {
            replyError(ErrorReply.gtLt)
            return
        }
        // As in Redis, the options are checked before the amount.
        guard let amount = argv.slice(at: 2).integerValue else {
            replyError(ErrorReply.notInteger)
            return
        }
        let (scaled, overflow1) = amount.multipliedReportingOverflow(by: unitMillis)
        let (deadline, overflow2) = absolute ? (scaled, false) : scaled.addingReportingOverflow(Int(now))
        guard !overflow1 && !overflow2 else {
            replyError(ErrorReply.invalidExpire(command))
            return
        }
        guard let info = entryInfo(key) else {
            output.writeInteger(0)
            return
        }
        let current = info.expiresAtMillis
        // A key without expiry has an infinite TTL for GT and LT.
        if (nx && current != nil) || (xx && current == nil)
            || (gt && (current == nil || Int64(deadline) <= current!))
            || (lt && current != nil && Int64(deadline) >= current!) {
            output.writeInteger(0)
            return
        }
        if Int64(deadline) <= now {
            stageDelete(key)
        } else {
            try stageExpiry(key, expiresAtMillis: Int64(deadline))
        }
        if commit() { output.writeInteger(1) }
    }

    /// TTL / PTTL (remaining) and EXPIRETIME / PEXPIRETIME (absolute): -2 no key, -1 no expiry.
    func timeToLive(unitMillis: Int, absolute: Bool) {
        guard let info = entryInfo(argv.slice(at: 1)) else {
            output.writeInteger(-2)
            return
        }
        guard let expiry = info.expiresAtMillis else {
            output.writeInteger(-1)
            return
        }
        if absolute {
            output.writeInteger(Int(expiry) / unitMillis)
        } else {
            let remaining = max(0, Int(expiry - now))
            output.writeInteger(unitMillis == 1 ? remaining : (remaining + 500) / 1000)
        }
    }

    func persist() throws(StoreError) {
        guard let info = entryInfo(argv.slice(at: 1)), info.expiresAtMillis != nil else {
            output.writeInteger(0)
            return
        }
        try stageExpiry(argv.slice(at: 1), expiresAtMillis: nil)
        if commit() { output.writeInteger(1) }
    }
}
