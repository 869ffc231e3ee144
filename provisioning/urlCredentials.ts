// Credentials in broker URLs (`scheme://user:pass@host`) masked before a URL is printed, by every command: either
// part may be the secret (a token as the user name), so both become `***`. The credentials end at the LAST '@' (as
// URL parsers read them), so a password holding '@', ':', '/' or '%40' is hidden whole; in doubt more is hidden, never less.

const MASK = "***";

/** `mqtt://user:p@ss@host:1883` -> `mqtt://***@host:1883`; a URL without credentials is returned as it is. */
export function maskUrlCredentials(url: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0] ?? "";
  const rest = url.slice(scheme.length);
  const at = rest.lastIndexOf("@");
  return at < 0 ? url : scheme + MASK + rest.slice(at);
}

/** Masks the credentials of every `scheme://...` in free text (error messages quoting a URL): a URL ends at a space or quote. */
export function maskUrlsIn(text: string): string {
  return text.replace(/[a-z][a-z0-9+.-]*:\/\/[^\s'"`<>]*/gi, maskUrlCredentials);
}
