// Verify a ledger13710 node's signed checkpoint and the log it covers, following
// docs/record-format.md with the JDK alone (SHA-256 and Ed25519 of java.security, Java 15+).
//
// Usage: java tools/java/VerifyCheckpoint.java DIR PUBLIC_KEY_HEX
//   DIR/checkpoint.json        the checkpoint message's payload, as received
//   DIR/NNNN.headers.json      each record's NATS headers as one flat JSON object, in log order
//   DIR/NNNN.payload           each record's payload bytes, as received
// Prints "checkpoint verified: ..." and exits 0, or names what does not hold and exits 1.
// The JSON reader handles the flat objects above only (string and integer values, no escapes).

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

public class VerifyCheckpoint {
    static final HexFormat HEX = HexFormat.of();
    static final Pattern MEMBER = Pattern.compile("\"([^\"]+)\"\\s*:\\s*(?:\"([^\"\\\\]*)\"|(-?\\d+))");
    // DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): the raw 32 bytes follow.
    static final byte[] SPKI_PREFIX = HEX.parseHex("302a300506032b6570032100");

    static final class NotVerified extends Exception {
        NotVerified(String message) { super(message); }
    }

    static Map<String, String> flatJson(Path file) throws Exception {
        Map<String, String> out = new LinkedHashMap<>();
        Matcher m = MEMBER.matcher(Files.readString(file, StandardCharsets.UTF_8));
        while (m.find()) out.put(m.group(1), m.group(2) != null ? m.group(2) : m.group(3));
        return out;
    }

    static byte[] sha256(byte[]... parts) throws Exception {
        MessageDigest d = MessageDigest.getInstance("SHA-256");
        for (byte[] p : parts) d.update(p);
        return d.digest();
    }

    // "The record hash": six UTF-8 fields each followed by one zero byte, then the payload.
    static byte[] recordHash(Map<String, String> h, byte[] payload) throws Exception {
        StringBuilder envelope = new StringBuilder();
        for (String name : List.of("Origin", "Seq", "Prev", "Topic", "Originator", "Version")) {
            envelope.append(h.get("L13710-" + name)).append('\0');
        }
        return sha256(envelope.toString().getBytes(StandardCharsets.UTF_8), payload);
    }

    // "The Merkle tree": RFC 9162 MTH, split at the largest power of two smaller than n.
    static byte[] treeRoot(List<byte[]> leaves) throws Exception {
        if (leaves.isEmpty()) return sha256();
        if (leaves.size() == 1) return leaves.get(0);
        int k = Integer.highestOneBit(leaves.size() - 1);
        byte[] left = treeRoot(leaves.subList(0, k));
        byte[] right = treeRoot(leaves.subList(k, leaves.size()));
        return sha256(new byte[] {1}, left, right);
    }

    // "The checkpoint body": eight lines, each ending with a line feed.
    static byte[] body(Map<String, String> cp) {
        StringBuilder b = new StringBuilder("ledger13710 checkpoint v1\n");
        for (String name : List.of("origin", "tree_size", "root_hash", "last_seq", "chain_hash",
                                   "timestamp", "public_key")) {
            b.append(name).append(' ').append(cp.get(name)).append('\n');
        }
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    static void checkSignature(Map<String, String> cp, String publicKey) throws Exception {
        if (!publicKey.equals(cp.get("public_key"))) {
            throw new NotVerified("the checkpoint names key " + cp.get("public_key"));
        }
        byte[] spki = new byte[SPKI_PREFIX.length + 32];
        System.arraycopy(SPKI_PREFIX, 0, spki, 0, SPKI_PREFIX.length);
        System.arraycopy(HEX.parseHex(publicKey), 0, spki, SPKI_PREFIX.length, 32);
        PublicKey key = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(spki));
        Signature verifier = Signature.getInstance("Ed25519");
        verifier.initVerify(key);
        verifier.update(body(cp));
        if (!verifier.verify(HEX.parseHex(cp.get("signature")))) {
            throw new NotVerified("the signature does not verify");
        }
    }

    // "Verifying a checkpoint", step 3: records from the first give its root and chain hash.
    static void checkLog(Map<String, String> cp, Path dir) throws Exception {
        List<Path> headerFiles;
        try (Stream<Path> files = Files.list(dir)) {
            headerFiles = files.filter(p -> p.toString().endsWith(".headers.json")).sorted().toList();
        }
        byte[] chain = sha256("ledger13710 chain genesis v1".getBytes(StandardCharsets.UTF_8));
        String prev = "0";
        List<byte[]> leaves = new ArrayList<>();
        int size = Integer.parseInt(cp.get("tree_size"));
        for (Path file : headerFiles) {
            Map<String, String> h = flatJson(file);
            String seq = h.get("L13710-Seq");
            if (!prev.equals(h.get("L13710-Prev"))) throw new NotVerified("record " + seq + " does not follow " + prev);
            String name = file.getFileName().toString().replace(".headers.json", ".payload");
            byte[] digest = recordHash(h, Files.readAllBytes(dir.resolve(name)));
            if (!HEX.formatHex(digest).equals(h.get("L13710-Hash"))) throw new NotVerified("record " + seq + ": wrong L13710-Hash");
            chain = sha256(chain, digest);
            if (!HEX.formatHex(chain).equals(h.get("L13710-Chain"))) throw new NotVerified("record " + seq + ": wrong L13710-Chain");
            leaves.add(sha256(new byte[] {0}, digest));
            prev = seq;
            if (leaves.size() == size) {
                if (!seq.equals(cp.get("last_seq")) || !HEX.formatHex(chain).equals(cp.get("chain_hash"))) {
                    throw new NotVerified("last_seq or chain_hash is not the log's");
                }
                if (!HEX.formatHex(treeRoot(leaves)).equals(cp.get("root_hash"))) {
                    throw new NotVerified("root_hash is not the root of the log");
                }
                return;
            }
        }
        throw new NotVerified("the checkpoint covers " + size + " records, the log has " + leaves.size());
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: java VerifyCheckpoint.java DIR PUBLIC_KEY_HEX");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        Map<String, String> cp = flatJson(dir.resolve("checkpoint.json"));
        try {
            checkSignature(cp, args[1]);
            checkLog(cp, dir);
        } catch (NotVerified e) {
            System.out.println("checkpoint NOT verified: " + e.getMessage());
            System.exit(1);
        }
        System.out.println("checkpoint verified: " + cp.get("origin") + ", " + cp.get("tree_size")
                           + " records up to " + cp.get("last_seq") + ", root " + cp.get("root_hash"));
    }
}
