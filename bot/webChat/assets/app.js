/* global window, document, localStorage, fetch, location, console, setTimeout, crypto, DataTransfer, Event, URLSearchParams */
/*
 * The local Web Chat page's script: it asks this bot's Direct Line endpoint for a token, renders Web Chat
 * (window.WebChat, from /webchat/webchat.js) against that endpoint, keeps the token fresh, and turns a file
 * dropped anywhere on the page into an upload through Web Chat's own file input.
 */
(function () {
  'use strict';

  var DIRECT_LINE = location.origin + '/v3/directline';
  var USER_KEY = 'enrollment-assistant.user';
  var USER_ID = /^[A-Za-z0-9_-]{1,64}$/;
  // Web Chat injects its styles as <style> elements; the page's Content-Security-Policy admits them through this
  // per-page nonce. It is readable only now, while this script runs (currentScript is null in callbacks).
  var styleNonce = (document.currentScript && document.currentScript.nonce) || undefined;

  var chat = document.getElementById('webchat');
  var statusLine = document.getElementById('status');

  function showStatus(message) {
    statusLine.textContent = message;
    statusLine.hidden = !message;
  }

  function randomId() {
    var bytes = new Uint8Array(8);
    // getRandomValues, unlike randomUUID, also works on plain http from another machine.
    crypto.getRandomValues(bytes);
    return (
      'web-' +
      Array.prototype.map
        .call(bytes, function (b) {
          return b.toString(16).padStart(2, '0');
        })
        .join('')
    );
  }

  function readStoredUser() {
    try {
      var stored = JSON.parse(localStorage.getItem(USER_KEY) || 'null');
      return stored && typeof stored.id === 'string' && USER_ID.test(stored.id) ? stored : null;
    } catch {
      return null;
    }
  }

  /**
   * The user this browser chats as: `?user=<id>` when given (so a demo or a test can pick an administrator's
   * id), else the one remembered in localStorage, else a new random `web-…` id. The choice is remembered.
   */
  function chooseUser() {
    var requested = new URLSearchParams(location.search).get('user');
    var stored = readStoredUser();
    var id;
    if (requested !== null && USER_ID.test(requested)) id = requested;
    else {
      if (requested !== null) showStatus('Ignored ?user=: a user id is 1 to 64 letters, digits, "-" or "_".');
      id = stored ? stored.id : randomId();
    }
    // No display name: the bot then records imports under the id, which is also what ADMINS lists.
    var user = { id: id };
    try {
      localStorage.setItem(USER_KEY, JSON.stringify(user));
    } catch {
      // Storage can be disabled; the id then lasts as long as the page.
    }
    return user;
  }

  function postDirectLine(path, body, token) {
    var headers = { 'content-type': 'application/json' };
    if (token) headers.authorization = 'Bearer ' + token;
    return fetch(DIRECT_LINE + path, {
      method: 'POST',
      headers: headers,
      body: JSON.stringify(body || {}),
      cache: 'no-store',
    }).then(function (response) {
      if (!response.ok) {
        var error = new Error('POST /v3/directline' + path + ' answered ' + response.status);
        error.status = response.status;
        throw error;
      }
      return response.json();
    });
  }

  /**
   * botframework-directlinejs refreshes a token on its own every 15 minutes, assuming 30-minute tokens. The
   * endpoint says how long its tokens live, so refresh at 80% of that, and hand the new token to the client.
   */
  function keepTokenFresh(directLine, expiresInSeconds) {
    var lifetime = Number(expiresInSeconds) > 0 ? Number(expiresInSeconds) : 1800;
    setTimeout(
      function () {
        postDirectLine('/tokens/refresh', {}, directLine.token).then(
          function (grant) {
            directLine.token = grant.token;
            keepTokenFresh(directLine, grant.expires_in);
          },
          function (error) {
            if (error.status === 403) {
              showStatus('This chat session has expired. Reload the page to start a new one.');
              return;
            }
            console.warn('Direct Line token refresh failed; retrying in 30 seconds.', error);
            keepTokenFresh(directLine, 37.5);
          },
        );
      },
      Math.max(30, lifetime * 0.8) * 1000,
    );
  }

  /** Hands a dropped file to Web Chat's hidden file input, exactly as if it had been picked with the paperclip. */
  function forwardDroppedFiles() {
    var depth = 0;
    var hasFiles = function (event) {
      return event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, 'Files') !== -1;
    };
    var setDragging = function (on) {
      document.body.classList.toggle('is-dragging', on);
    };
    document.addEventListener('dragenter', function (event) {
      if (!hasFiles(event)) return;
      depth += 1;
      setDragging(true);
    });
    document.addEventListener('dragleave', function (event) {
      if (!hasFiles(event)) return;
      depth = Math.max(0, depth - 1);
      if (depth === 0) setDragging(false);
    });
    document.addEventListener('dragover', function (event) {
      if (!hasFiles(event)) return;
      // Without this the browser opens the file instead of letting the page have it.
      event.preventDefault();
      event.dataTransfer.dropEffect = 'copy';
    });
    document.addEventListener('drop', function (event) {
      if (!hasFiles(event)) return;
      event.preventDefault();
      depth = 0;
      setDragging(false);
      var input = chat.querySelector('input[type="file"]');
      var file = event.dataTransfer.files[0];
      if (!input || !file) return;
      var transfer = new DataTransfer();
      transfer.items.add(file);
      input.files = transfer.files;
      input.dispatchEvent(new Event('change', { bubbles: true }));
    });
  }

  function start() {
    if (!window.WebChat) {
      showStatus('Web Chat did not load. Reload the page; if this persists, check the bot is running.');
      return;
    }
    // Listening from the start: a file dropped before Web Chat is up must not replace the page.
    forwardDroppedFiles();
    var user = chooseUser();
    postDirectLine('/tokens/generate', { user: user }).then(
      function (grant) {
        var directLine = window.WebChat.createDirectLine({
          domain: DIRECT_LINE,
          token: grant.token,
          webSocket: false,
        });
        keepTokenFresh(directLine, grant.expires_in);
        chat.textContent = '';
        window.WebChat.renderWebChat(
          {
            directLine: directLine,
            userID: user.id,
            locale: 'en-US',
            nonce: styleNonce,
            styleOptions: {
              accent: '#0f6cbd',
              primaryFont:
                "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif",
              botAvatarInitials: 'EA',
              botAvatarBackgroundColor: '#0f6cbd',
              userAvatarInitials: 'You',
              bubbleBorderRadius: 8,
              bubbleFromUserBorderRadius: 8,
              bubbleFromUserBackground: '#e8f1fb',
              bubbleFromUserBorderColor: '#c7ddf3',
              // The whole point of the page: files go up through the paperclip, one at a time.
              hideUploadButton: false,
              uploadAccept:
                '.csv,.txt,.tsv,.xlsx,.xlsm,.xls,text/csv,text/plain,' +
                'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
              uploadMultiple: false,
              // Sending needs no second click: nothing is imported before the plan card is confirmed anyway.
              sendAttachmentOn: 'attach',
            },
          },
          chat,
        );
        var input = chat.querySelector('input[type="text"], textarea');
        if (input) input.focus();
      },
      function (error) {
        console.error(error);
        showStatus('Could not start a chat with the bot (' + error.message + '). Is it running?');
      },
    );
  }

  start();
})();
