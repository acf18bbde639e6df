/*
 * The QR scanner of /verify: progressive enhancement of the verification form.
 *
 * Without JavaScript, or without a camera, the scanner stays hidden and the form works as it is.
 * With both, a button opens the back camera (getUserMedia), frames are decoded with the browser's own
 * BarcodeDetector when it has one, else with the vendored jsQR (static/vendor/jsqr), and the first QR
 * code holding a usable address is acted on:
 *   - a credential page of this site (/c/...): the browser goes there;
 *   - any other https address (or an http address of this site): it fills the address field, clears
 *     the other inputs, and submits the form, which the server checks as usual.
 * Anything else (text, another scheme) is reported and scanning goes on. Messages come translated from
 * the page (data-msg-* attributes of #scanner). No inline script: the CSP is script-src 'self'.
 */
(function () {
  "use strict";

  var SCAN_INTERVAL_MS = 150;
  var MAX_SIDE = 640; // frames are scaled down to this: enough for a QR code, cheap to decode

  function messages(box) {
    return {
      starting: box.getAttribute("data-msg-starting"),
      scanning: box.getAttribute("data-msg-scanning"),
      denied: box.getAttribute("data-msg-denied"),
      unavailable: box.getAttribute("data-msg-unavailable"),
      notAddress: box.getAttribute("data-msg-not-address"),
      found: box.getAttribute("data-msg-found"),
      stopped: box.getAttribute("data-msg-stopped")
    };
  }

  /* What to do with a decoded text: {action: "open"|"submit", url} or null. */
  function classify(text) {
    var url;
    try {
      url = new URL(String(text).trim());
    } catch (e) {
      return null;
    }
    var ours = url.origin === window.location.origin;
    if (ours && url.pathname.indexOf("/c/") === 0) {
      return { action: "open", url: url.href };
    }
    if (url.protocol === "https:" || (ours && url.protocol === "http:")) {
      return { action: "submit", url: url.href };
    }
    return null;
  }

  function jsqrDecoder() {
    if (typeof window.jsQR !== "function") {
      return null;
    }
    return function (canvas, context) {
      var image = context.getImageData(0, 0, canvas.width, canvas.height);
      var code = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "attemptBoth" });
      return Promise.resolve(code ? code.data : null);
    };
  }

  /* The browser's own detector when it reads QR codes (phones mostly), else jsQR. */
  function chooseDecoder() {
    var fallback = jsqrDecoder();
    var Detector = window.BarcodeDetector;
    if (typeof Detector !== "function" || typeof Detector.getSupportedFormats !== "function") {
      return Promise.resolve(fallback);
    }
    return Detector.getSupportedFormats().then(function (formats) {
      if (formats.indexOf("qr_code") === -1) {
        return fallback;
      }
      var detector = new Detector({ formats: ["qr_code"] });
      return function (canvas, context) {
        return detector.detect(canvas).then(function (codes) {
          return codes.length ? codes[0].rawValue : null;
        }, function () {
          return fallback ? fallback(canvas, context) : null;
        });
      };
    }, function () {
      return fallback;
    });
  }

  function start() {
    var box = document.getElementById("scanner");
    var form = document.getElementById("verify-form");
    var media = navigator.mediaDevices;
    if (!box || !form || !media || typeof media.getUserMedia !== "function") {
      return; /* no camera API: the form alone */
    }
    chooseDecoder().then(function (decode) {
      if (decode) {
        enable(box, form, media, decode);
      }
    });
  }

  function enable(box, form, media, decode) {
    var text = messages(box);
    var startButton = document.getElementById("scan-start");
    var stopButton = document.getElementById("scan-stop");
    var video = document.getElementById("scan-video");
    var status = document.getElementById("scan-status");
    var urlField = document.getElementById("credential_url");
    var canvas = document.createElement("canvas");
    var context = canvas.getContext("2d", { willReadFrequently: true });
    var stream = null;
    var timer = null;
    var busy = false;
    var lastRejected = null;

    function say(message) {
      status.textContent = message || "";
    }

    function stop(message) {
      if (timer !== null) {
        window.clearInterval(timer);
        timer = null;
      }
      if (stream) {
        stream.getTracks().forEach(function (track) {
          track.stop();
        });
        stream = null;
      }
      video.srcObject = null;
      video.hidden = true;
      stopButton.hidden = true;
      startButton.hidden = false;
      if (message !== undefined) {
        say(message);
      }
    }

    function act(found) {
      stop(text.found);
      if (found.action === "open") {
        window.location.assign(found.url);
        return;
      }
      urlField.value = found.url;
      var others = form.querySelectorAll("#credential_text, #credential_file");
      Array.prototype.forEach.call(others, function (input) {
        input.value = "";
      });
      var submit = form.querySelector("button[type=submit]");
      if (typeof form.requestSubmit === "function") {
        form.requestSubmit(submit || undefined);
      } else {
        form.submit();
      }
    }

    function tick() {
      if (busy || !stream || video.readyState < 2 || !video.videoWidth) {
        return;
      }
      var scale = Math.min(1, MAX_SIDE / Math.max(video.videoWidth, video.videoHeight));
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      busy = true;
      decode(canvas, context).then(function (value) {
        busy = false;
        if (value === null || !stream) {
          return;
        }
        var found = classify(value);
        if (found) {
          act(found);
        } else if (value !== lastRejected) {
          lastRejected = value;
          say(text.notAddress);
        }
      }, function () {
        busy = false;
      });
    }

    startButton.addEventListener("click", function () {
      say(text.starting);
      media.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false }).then(function (opened) {
        stream = opened;
        video.srcObject = opened;
        video.hidden = false;
        startButton.hidden = true;
        stopButton.hidden = false;
        return video.play();
      }).then(function () {
        say(text.scanning);
        timer = window.setInterval(tick, SCAN_INTERVAL_MS);
      }).catch(function (error) {
        stop(error && error.name === "NotAllowedError" ? text.denied : text.unavailable);
      });
    });
    stopButton.addEventListener("click", function () {
      stop(text.stopped);
      startButton.focus();
    });
    window.addEventListener("pagehide", function () {
      stop();
    });
    box.hidden = false;
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
