// Throwaway TLS material for broker tests, made with openssl: a CA, a server certificate it signed for
// 127.0.0.1, and a second CA that signed nothing here (the "unknown CA").
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export interface TestCertificates {
  dir: string;
  /** the CA that signed the server certificate */
  ca: string;
  /** a CA unrelated to the server's certificate */
  otherCa: string;
  cert: string;
  key: string;
  remove(): void;
}

export function makeCertificates(): TestCertificates {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-tls-"));
  const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=espdht test CA", "-keyout", "ca.key", "-out", "ca.pem");
  ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=someone else's CA", "-keyout", "other-ca.key", "-out", "other-ca.pem");
  ssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "server.key", "-out", "server.csr");
  fs.writeFileSync(path.join(dir, "ext.cnf"), "subjectAltName=IP:127.0.0.1\n");
  ssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "ext.cnf", "-out", "server.pem");
  // Mosquitto started as root drops to its own user: it must be able to read the (throwaway) files
  fs.chmodSync(dir, 0o755);
  for (const f of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, f), 0o644);
  return {
    dir,
    ca: path.join(dir, "ca.pem"),
    otherCa: path.join(dir, "other-ca.pem"),
    cert: path.join(dir, "server.pem"),
    key: path.join(dir, "server.key"),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
