// Checks a certificate's signed payload in the browser (WebCrypto Ed25519) with the public key
// that the page carries in data-key-x, so it works offline once the page is open or saved.
// Without WebCrypto Ed25519 the form posts and the server checks instead.
(function () {
  "use strict";
  const form = document.getElementById("offline-form");
  const result = document.getElementById("offline-result");
  if (!form || !result || !window.crypto || !window.crypto.subtle) {
    return;
  }
  const labels = JSON.parse(form.dataset.labels || "{}");
  let keyPromise = null;

  function bytesFromBase64url(text) {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
    const binary = window.atob(base64);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i += 1) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes;
  }

  // The pasted text may be the QR code's whole address: the payload follows its "#".
  function tokenFrom(text) {
    let token = text.trim();
    const hash = token.lastIndexOf("#");
    if (hash >= 0) {
      token = token.slice(hash + 1);
    }
    return token.replace(/\s+/g, "");
  }

  function decode(token) {
    const parts = token.split(".");
    if (parts.length !== 2 || !parts[0] || !parts[1]) {
      throw new Error("not a token");
    }
    const body = bytesFromBase64url(parts[0]);
    const signature = bytesFromBase64url(parts[1]);
    const payload = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
    if (!payload || payload.v !== 1) {
      throw new Error("unknown version");
    }
    return { body, signature, payload };
  }

  function publicKey() {
    if (!keyPromise) {
      const jwk = { kty: "OKP", crv: "Ed25519", x: form.dataset.keyX };
      keyPromise = window.crypto.subtle.importKey("jwk", jwk, { name: "Ed25519" }, false, ["verify"]);
    }
    return keyPromise;
  }

  function show(kind, message, payload) {
    result.replaceChildren();
    const line = document.createElement("p");
    line.className = "flash " + (kind === "valid" ? "flash-success" : "flash-error");
    line.dataset.result = kind;
    line.textContent = message;
    result.append(line);
    if (!payload) {
      return;
    }
    const list = document.createElement("dl");
    list.className = "facts";
    Object.keys(labels).forEach((key) => {
      if (Object.prototype.hasOwnProperty.call(payload, key)) {
        const term = document.createElement("dt");
        term.textContent = labels[key];
        const value = document.createElement("dd");
        value.textContent = String(payload[key]);
        list.append(term, value);
      }
    });
    result.append(list);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let decoded;
    try {
      decoded = decode(tokenFrom(form.elements.payload.value));
    } catch (error) {
      show("malformed", form.dataset.msgMalformed);
      return;
    }
    let genuine;
    try {
      genuine = await window.crypto.subtle.verify(
        { name: "Ed25519" }, await publicKey(), decoded.signature, decoded.body
      );
    } catch (error) {
      form.submit(); // no Ed25519 in this browser: the server checks
      return;
    }
    if (genuine) {
      show("valid", form.dataset.msgValid, decoded.payload);
    } else if (decoded.payload.kid && decoded.payload.kid !== form.dataset.keyId) {
      show("invalid", form.dataset.msgOtherKey);
    } else {
      show("invalid", form.dataset.msgInvalid);
    }
  });
})();
