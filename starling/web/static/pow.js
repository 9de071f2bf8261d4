// Starling sign-up proof of work (docs/safety.md): find a decimal nonce such that
// SHA-256("<challenge>:<nonce>") starts with `difficulty` zero bits. A form marked
// data-pow-challenge-url gets hidden pow_challenge / pow_nonce fields filled before it is sent,
// when the server says a proof is required. The hashing is a plain synchronous SHA-256 over ASCII
// (crypto.subtle is asynchronous per hash, far slower for millions of tiny inputs), run in slices
// so the page stays responsive.
(function () {
  "use strict";
  var K = new Uint32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2]);
  var W = new Uint32Array(64);

  function rotr(x, n) { return (x >>> n) | (x << (32 - n)); }

  var WORDS = new Uint32Array(64), H = new Uint32Array(8);
  var INITIAL = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

  // SHA-256 of ASCII text (up to 247 characters), into a buffer reused by every call: the search
  // hashes millions of short strings, so nothing is allocated per hash.
  function sha256(text) {
    var length = text.length, blocks = ((length + 9 + 63) >> 6), words = WORDS, h = H, i;
    words.fill(0, 0, blocks * 16);
    for (i = 0; i < length; i++) words[i >> 2] |= (text.charCodeAt(i) & 0xff) << (24 - (i & 3) * 8);
    words[length >> 2] |= 0x80 << (24 - (length & 3) * 8);
    words[blocks * 16 - 1] = length * 8;
    for (i = 0; i < 8; i++) h[i] = INITIAL[i];
    for (var block = 0; block < blocks; block++) {
      for (i = 0; i < 16; i++) W[i] = words[block * 16 + i];
      for (i = 16; i < 64; i++) {
        var s0 = rotr(W[i - 15], 7) ^ rotr(W[i - 15], 18) ^ (W[i - 15] >>> 3);
        var s1 = rotr(W[i - 2], 17) ^ rotr(W[i - 2], 19) ^ (W[i - 2] >>> 10);
        W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
      }
      var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
      for (i = 0; i < 64; i++) {
        var t1 = (k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
        var t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
        k = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
      }
      h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += k;
    }
    return h;
  }

  function zeroBits(h) {
    var bits = 0;
    for (var i = 0; i < 8; i++) {
      if (h[i] === 0) { bits += 32; continue; }
      return bits + Math.clz32(h[i]);
    }
    return bits;
  }

  function solve(challenge, difficulty, done) {
    var nonce = 0, prefix = challenge + ":";
    (function slice() {
      var stop = nonce + 20000;
      for (; nonce < stop; nonce++) {
        if (zeroBits(sha256(prefix + nonce)) >= difficulty) return done(String(nonce));
      }
      setTimeout(slice, 0);
    })();
  }

  function hidden(form, name, value) {
    var input = form.querySelector("input[name='" + name + "']");
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      form.appendChild(input);
    }
    input.value = value;
  }

  function arm(form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.powSolved === "yes") return;
      event.preventDefault();
      var status = form.querySelector("[data-pow-status]");
      fetch(form.dataset.powChallengeUrl, {credentials: "same-origin"})
        .then(function (response) { return response.json(); })
        .then(function (body) {
          if (!body.required) { form.dataset.powSolved = "yes"; form.submit(); return; }
          if (status) status.textContent = "Checking this browser is not a bot\u2026";
          solve(body.challenge, body.difficulty, function (nonce) {
            hidden(form, "pow_challenge", body.challenge);
            hidden(form, "pow_nonce", nonce);
            form.dataset.powSolved = "yes";
            form.submit();
          });
        })
        .catch(function () { form.dataset.powSolved = "yes"; form.submit(); });
    });
  }

  window.StarlingPow = {sha256: sha256, zeroBits: zeroBits, solve: solve};
  document.querySelectorAll("form[data-pow-challenge-url]").forEach(arm);
})();
