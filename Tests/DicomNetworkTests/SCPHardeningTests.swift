#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
@testable import DicomNetwork

/// The storage SCP against peers that should not get in or should not hurt it: callers not on the allow-list, other
/// local addresses than the bind address, silent and malformed connections, UIDs that try to leave the inbox.
/// Loopback addresses only.
@Suite(.serialized) struct SCPHardeningTests {
    func config(_ inbox: String, port: UInt16, bind: String = "127.0.0.1", allow: [String] = ["MODALITY"],
                anyCaller: Bool = false, max: Int = 8, timeout: Int = 10) -> StorageSCPConfig {
        StorageSCPConfig(aeTitle: "BRIXIA", port: port, inbox: inbox, bindAddress: bind, allowedCallingAETitles: allow,
                         allowAnyCaller: anyCaller, maxAssociations: max, timeoutSeconds: timeout)
    }

    @Test func refusesToStartWithoutAllowListUnlessAnyCallerIsExplicit() throws {
        let inbox = try NetTest.tempDir("allow") + "/inbox"
        let port = NetTest.freePort()
        #expect {
            try StorageSCP(config: config(inbox, port: port, allow: []))
        } throws: { "\($0)".contains("no calling AE titles are allowed") }
        // The explicit opt-out lets any calling AE title in.
        let scp = try StorageSCP(config: config(inbox, port: port, allow: [], anyCaller: true))
        try scp.start()
        defer { scp.stop() }
        try DicomSCU(callingAETitle: "WHOEVER", timeoutSeconds: 5).echo(try DicomNode(aeTitle: "BRIXIA", host: "127.0.0.1", port: port))
    }

    @Test func badBindAddressesAndLimitsAreRefused() throws {
        let inbox = try NetTest.tempDir("bindcfg") + "/inbox"
        for bad in ["localhost", "127.0.0.1:104", "1.2.3", "pacs.example.org"] {
            #expect(throws: DicomNetworkError.self, "\(bad)") { try StorageSCP(config: config(inbox, port: 11112, bind: bad)) }
        }
        for ok in ["", "0.0.0.0", "127.0.0.1", "::1", "::", "10.1.2.3"] { _ = try StorageSCP(config: config(inbox, port: 11112, bind: ok)) }
        #expect(throws: DicomNetworkError.self) { try StorageSCP(config: config(inbox, port: 11112, max: 0)) }
        #expect(throws: DicomNetworkError.self) { try StorageSCP(config: config(inbox, port: 11112, max: 10_000)) }
        // An address that is not on this host is reported when the port is opened, with the reason.
        let scp = try StorageSCP(config: config(inbox, port: NetTest.freePort(), bind: "192.0.2.1"))
        #expect { try scp.start() } throws: { "\($0)".contains("cannot listen on 192.0.2.1") }
    }

    @Test func listensOnlyOnTheBindAddress() throws {
        let inbox = try NetTest.tempDir("bind") + "/inbox"
        let port = NetTest.freePort()
        let scp = try StorageSCP(config: config(inbox, port: port, bind: "127.0.0.1"))
        try scp.start()
        // The kernel's view: one listening socket, on 127.0.0.1 only.
        #expect(Sockets.listening(port: port) == ["0100007F"], "\(Sockets.listening(port: port))")
        #expect(Sockets.canConnect("127.0.0.1", port))
        // 127.0.0.2 is a local address too (all of 127/8 is loopback): a wildcard listener would answer there.
        #expect(!Sockets.canConnect("127.0.0.2", port))
        for other in Sockets.localIPv4Addresses() where !other.hasPrefix("127.") {
            #expect(!Sockets.canConnect(other, port), "reachable on \(other)")
        }
        try DicomSCU(callingAETitle: "MODALITY", timeoutSeconds: 5).echo(try DicomNode(aeTitle: "BRIXIA", host: "127.0.0.1", port: port))
        scp.stop()
        #expect(Sockets.listening(port: port).isEmpty, "the port must be closed after stop")

        // Another single address: reachable there and nowhere else.
        let scp2 = try StorageSCP(config: config(inbox, port: port, bind: "127.0.0.2"))
        try scp2.start()
        defer { scp2.stop() }
        #expect(Sockets.listening(port: port) == ["0200007F"])
        #expect(Sockets.canConnect("127.0.0.2", port))
        #expect(!Sockets.canConnect("127.0.0.1", port))
        try DicomSCU(callingAETitle: "MODALITY", timeoutSeconds: 5).echo(try DicomNode(aeTitle: "BRIXIA", host: "127.0.0.2", port: port))
    }

    @Test(.enabled(if: Sockets.hasIPv6Loopback, "no IPv6 loopback (::1) on this host"))
    func listensOnIPv6LoopbackOnly() throws {
        let inbox = try NetTest.tempDir("bind6") + "/inbox"
        let port = NetTest.freePort()
        let scp = try StorageSCP(config: config(inbox, port: port, bind: "::1"))
        try scp.start()
        defer { scp.stop() }
        #expect(Sockets.listening(port: port, ipv6: true) == ["00000000000000000000000001000000"])
        #expect(Sockets.listening(port: port).isEmpty)
        #expect(Sockets.canConnect("::1", port))
        #expect(!Sockets.canConnect("127.0.0.1", port))
    }

    @Test func countersAreFinalAfterStop() throws {
        let inbox = try NetTest.tempDir("count") + "/inbox"
        let port = NetTest.freePort()
        let scp = try StorageSCP(config: config(inbox, port: port))
        try scp.start()
        let node = try DicomNode(aeTitle: "BRIXIA", host: "127.0.0.1", port: port)
        let dir = try NetTest.tempDir("count-src")
        let n = 5
        let files = try (0..<n).map { i -> String in
            try NetTest.makeImage(at: dir + "/\(i).dcm", seed: UInt16(i))
            return dir + "/\(i).dcm"
        }
        try NetTest.makeImage(at: dir + "/nostudy.dcm", studyUID: "")
        #expect(try DicomSCU(callingAETitle: "MODALITY").store(Array(files[0..<2]), to: node).allSatisfy(\.stored))
        #expect(try DicomSCU(callingAETitle: "MODALITY").store(Array(files[2...]) + [dir + "/nostudy.dcm"], to: node)
            .filter(\.stored).count == n - 2)
        #expect(throws: DicomNetworkError.self) { try DicomSCU(callingAETitle: "INTRUDER").echo(node) }
        // Each finished association closes its server-side socket: none of ours left ESTABLISHED or CLOSE_WAIT
        // (a leaked socket whose peer has gone). Other suites run in parallel, so look only at our port.
        for _ in 0..<20 { try DicomSCU(callingAETitle: "MODALITY", timeoutSeconds: 5).echo(node) }
        #expect(NetTest.waitUntil(5) { Sockets.openConnections(localPort: port).isEmpty }, "\(Sockets.openConnections(localPort: port))")
        scp.stop()
        #expect(!scp.isRunning)
        // What `receive` and `serve` print at stop: must be the real counts, not zero.
        #expect(scp.stats == StorageSCPStats(stored: UInt64(n), failed: 1, rejectedAssociations: 1))
        #expect(NetTest.inboxFiles(inbox).count == n)
    }

    /// A peer that connects and sends nothing holds one listener thread at most: others are served meanwhile, and
    /// stop() cuts it at once instead of waiting for the timeout.
    @Test func silentPeerBlocksNeitherOthersNorStop() throws {
        let inbox = try NetTest.tempDir("silent") + "/inbox"
        let port = NetTest.freePort()
        let scp = try StorageSCP(config: config(inbox, port: port, max: 2, timeout: 30))
        try scp.start()
        let silent = try #require(Sockets.connect("127.0.0.1", port))
        defer { close(silent) }
        let silent2 = try #require(Sockets.connect("127.0.0.1", port))
        defer { close(silent2) }
        usleep(300_000)
        // Both threads may be holding a silent peer right now; the timeout frees them, so ask within it.
        let dir = try NetTest.tempDir("silent-src")
        try NetTest.makeImage(at: dir + "/a.dcm")
        close(silent2)
        let start = Date()
        let node = try DicomNode(aeTitle: "BRIXIA", host: "127.0.0.1", port: port)
        #expect(try DicomSCU(callingAETitle: "MODALITY", timeoutSeconds: 10).store([dir + "/a.dcm"], to: node).allSatisfy(\.stored))
        #expect(Date().timeIntervalSince(start) < 5, "a silent peer held up another association")
        let stopStart = Date()
        scp.stop()
        #expect(Date().timeIntervalSince(stopStart) < 3, "stop waited \(Date().timeIntervalSince(stopStart)) s for a silent peer")
        #expect(Sockets.isClosedByPeer(silent), "the silent peer's connection must be closed at stop")
        #expect(scp.stats.stored == 1)
    }

    /// Garbage, a truncated PDU and an A-ASSOCIATE-RQ announcing 2 GB: each is dropped, nothing is allocated for
    /// the announced length, and the SCP keeps serving.
    @Test func malformedAndOversizedPDUsAreDropped() throws {
        let inbox = try NetTest.tempDir("pdu") + "/inbox"
        let port = NetTest.freePort()
        let scp = try StorageSCP(config: config(inbox, port: port, timeout: 5))
        try scp.start()
        defer { scp.stop() }
        let rssBefore = Sockets.residentBytes()
        let payloads: [[UInt8]] = [
            Array("GET / HTTP/1.0\r\n\r\n".utf8),
            [0x01, 0x00, 0x7F, 0xFF, 0xFF, 0xFF] + [UInt8](repeating: 0x41, count: 4096),  // A-ASSOCIATE-RQ, 2 GiB
            [0x04, 0x00, 0xFF, 0xFF, 0xFF, 0xF0] + [UInt8](repeating: 0, count: 1024),     // P-DATA before association
            [0x01, 0x00],                                                                  // truncated header
        ]
        for p in payloads {
            let fd = try #require(Sockets.connect("127.0.0.1", port))
            _ = p.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            // The SCP drops the connection (at the latest after its 5 s timeout).
            #expect(Sockets.isClosedByPeer(fd, within: 8), "connection after \(p.prefix(6)) was not closed")
            close(fd)
        }
        #expect(Sockets.residentBytes() - rssBefore < 200 << 20, "memory grew by \((Sockets.residentBytes() - rssBefore) >> 20) MiB")
        try DicomSCU(callingAETitle: "MODALITY", timeoutSeconds: 5).echo(try DicomNode(aeTitle: "BRIXIA", host: "127.0.0.1", port: port))
        #expect(NetTest.inboxFiles(inbox).isEmpty)
    }

    /// After a valid association, a P-DATA-TF announcing 2 GiB and 4 GiB (we offered 16 KiB): the SCP aborts the
    /// association (A-ABORT) without allocating the announced length, and keeps serving.
    @Test func oversizedPDataIsAborted() throws {
        let inbox = try NetTest.tempDir("pdata") + "/inbox"
        let port = NetTest.freePort()
        let scp = try StorageSCP(config: config(inbox, port: port, timeout: 5))
        try scp.start()
        defer { scp.stop() }
        let rssBefore = Sockets.residentBytes()
        for length: UInt32 in [0x7FFF_FFF0, 0xFFFF_FFF0] {
            let fd = try #require(Sockets.connect("127.0.0.1", port))
            defer { close(fd) }
            #expect(Sockets.sendAll(fd, PDU.associateRQ(called: "BRIXIA", calling: "MODALITY")))
            #expect(Sockets.receive(fd, count: 1).first == 0x02, "A-ASSOCIATE-AC expected")
            _ = Sockets.receive(fd, count: 65536, timeout: 0.3)
            #expect(Sockets.sendAll(fd, [0x04, 0x00] + withUnsafeBytes(of: length.bigEndian, Array.init) + [UInt8](repeating: 0, count: 100_000)))
            #expect(Sockets.receive(fd, count: 1, timeout: 5).first == 0x07, "A-ABORT expected after a \(length)-byte P-DATA")
        }
        #expect(Sockets.residentBytes() - rssBefore < 200 << 20)
        try DicomSCU(callingAETitle: "MODALITY", timeoutSeconds: 5).echo(try DicomNode(aeTitle: "BRIXIA", host: "127.0.0.1", port: port))
    }

    /// Study and SOP Instance UIDs become the file path: anything but UID syntax is refused with 0xC000, and
    /// nothing is written outside the inbox.
    @Test func peerUIDsCannotLeaveTheInbox() throws {
        let root = try NetTest.tempDir("uid")
        let inbox = root + "/inbox"
        let port = NetTest.freePort()
        let scp = try StorageSCP(config: config(inbox, port: port))
        try scp.start()
        defer { scp.stop() }
        let node = try DicomNode(aeTitle: "BRIXIA", host: "127.0.0.1", port: port)
        let dir = try NetTest.tempDir("uid-src")
        let hostile: [(study: String, sop: String)] = [
            ("../../escaped", NetTest.newUID()), ("..", NetTest.newUID()), (".staging", NetTest.newUID()),
            ("1.2.3", "../../../escaped"), ("1.2.3", "1.2/../../x"), ("1.2..3", NetTest.newUID()), ("1.2.3.", NetTest.newUID()),
            ("/tmp/escaped", NetTest.newUID()),
        ]
        var files: [String] = []
        for (i, h) in hostile.enumerated() {
            try NetTest.makeImage(at: dir + "/\(i).dcm", studyUID: h.study, sopUID: h.sop)
            files.append(dir + "/\(i).dcm")
        }
        try NetTest.makeImage(at: dir + "/ok.dcm")
        let outcomes = try DicomSCU(callingAETitle: "MODALITY").store(files + [dir + "/ok.dcm"], to: node)
        for (o, h) in zip(outcomes, hostile) {
            // Refused by our SCP (not by the sending side): the check under test ran.
            guard case .dimseFailure(let status, _) = o.error else { Issue.record("\(h): \(o)"); continue }
            #expect(status == 0xC000, "\(h)")
        }
        #expect(outcomes.last?.stored == true)
        #expect(NetTest.inboxFiles(inbox).count == 1)
        #expect(NetTest.stagingFiles(inbox).isEmpty)
        // Nothing next to the inbox, nothing in /tmp.
        #expect(try FileManager.default.contentsOfDirectory(atPath: root) == ["inbox"])
        #expect(!FileManager.default.fileExists(atPath: "/tmp/escaped"))
    }
}

/// Hand-made PDUs (PS3.8 9.3) for peers that misbehave after a valid start.
enum PDU {
    static func item(_ type: UInt8, _ data: [UInt8]) -> [UInt8] {
        [type, 0] + withUnsafeBytes(of: UInt16(data.count).bigEndian, Array.init) + data
    }

    /// A-ASSOCIATE-RQ proposing Verification / Implicit VR Little Endian, max PDU 16 KiB.
    static func associateRQ(called: String, calling: String) -> [UInt8] {
        func ae(_ s: String) -> [UInt8] { Array(s.utf8) + [UInt8](repeating: 0x20, count: 16 - s.utf8.count) }
        let pc = item(0x20, [1, 0, 0, 0] + item(0x30, Array("1.2.840.10008.1.1".utf8)) + item(0x40, Array("1.2.840.10008.1.2".utf8)))
        let user = item(0x50, item(0x51, withUnsafeBytes(of: UInt32(16384).bigEndian, Array.init)))
        let body: [UInt8] = [0, 1, 0, 0] + ae(called) + ae(calling) + [UInt8](repeating: 0, count: 32)
            + item(0x10, Array("1.2.840.10008.3.1.1.1".utf8)) + pc + user
        return [0x01, 0x00] + withUnsafeBytes(of: UInt32(body.count).bigEndian, Array.init) + body
    }
}

/// Raw sockets and the kernel's socket tables, for checks below the DICOM layer.
enum Sockets {
    /// Local addresses (hex as in /proc/net/tcp{,6}) of sockets listening on `port`.
    static func listening(port: UInt16, ipv6: Bool = false) -> [String] {
        guard let text = try? String(contentsOfFile: ipv6 ? "/proc/net/tcp6" : "/proc/net/tcp", encoding: .utf8) else { return [] }
        let portHex = String(format: "%04X", port)
        return text.split(separator: "\n").dropFirst().compactMap { line in
            let f = line.split(separator: " ")
            guard f.count > 3, f[3] == "0A" else { return nil }  // 0A = TCP_LISTEN
            let local = f[1].split(separator: ":")
            guard local.count == 2, local[1] == portHex else { return nil }
            return String(local[0])
        }
    }

    static var hasIPv6Loopback: Bool {
        ((try? String(contentsOfFile: "/proc/net/if_inet6", encoding: .utf8)) ?? "").contains("00000000000000000000000000000001")
    }

    /// This host's IPv4 interface addresses.
    static func localIPv4Addresses() -> [String] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return [] }
        defer { freeifaddrs(list) }
        var out: [String] = []
        var p = list
        while let a = p {
            if let sa = a.pointee.ifa_addr, sa.pointee.sa_family == sa_family_t(AF_INET) {
                var buf = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
                sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                    var addr = sin.pointee.sin_addr
                    _ = inet_ntop(AF_INET, &addr, &buf, socklen_t(buf.count))
                }
                out.append(String(cString: buf))
            }
            p = a.pointee.ifa_next
        }
        return out
    }

    /// A connected TCP socket (2 s connect timeout), or nil.
    static func connect(_ host: String, _ port: UInt16) -> Int32? {
        var hints = addrinfo()
        hints.ai_flags = AI_NUMERICHOST
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var res: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, "\(port)", &hints, &res) == 0, let ai = res else { return nil }
        defer { freeaddrinfo(res) }
        let fd = socket(ai.pointee.ai_family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var tv = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        if Glibc.connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) != 0 { close(fd); return nil }
        return fd
    }

    static func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            off += n
        }
        return true
    }

    /// Up to `count` bytes, whatever arrives within `timeout` (empty on timeout or close).
    static func receive(_ fd: Int32, count: Int, timeout: TimeInterval = 5) -> [UInt8] {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, Int32(timeout * 1000)) > 0 else { return [] }
        var buf = [UInt8](repeating: 0, count: count)
        let n = recv(fd, &buf, count, 0)
        return n > 0 ? Array(buf[0..<n]) : []
    }

    static func canConnect(_ host: String, _ port: UInt16) -> Bool {
        guard let fd = connect(host, port) else { return false }
        close(fd)
        return true
    }

    /// True when the peer closed or reset `fd` within `within` seconds (reads and discards what it sends).
    static func isClosedByPeer(_ fd: Int32, within: TimeInterval = 2) -> Bool {
        let end = Date().addingTimeInterval(within)
        var buf = [UInt8](repeating: 0, count: 4096)
        while Date() < end {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&p, 1, 100) > 0 {
                let n = recv(fd, &buf, buf.count, Int32(MSG_DONTWAIT))
                if n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) { return true }
            }
        }
        return false
    }

    /// TCP states (hex) of connections whose local port is `localPort`, except LISTEN and TIME_WAIT (no socket left).
    static func openConnections(localPort: UInt16) -> [String] {
        guard let text = try? String(contentsOfFile: "/proc/net/tcp", encoding: .utf8) else { return [] }
        let portHex = String(format: "%04X", localPort)
        return text.split(separator: "\n").dropFirst().compactMap { line in
            let f = line.split(separator: " ")
            guard f.count > 3, f[1].hasSuffix(":" + portHex), f[3] != "0A", f[3] != "06" else { return nil }
            return String(f[3])
        }
    }

    /// Resident set size of this process.
    static func residentBytes() -> Int {
        let text = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8)) ?? ""
        let pages = Int(text.split(separator: " ").dropFirst().first ?? "0") ?? 0
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
