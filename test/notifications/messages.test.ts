import { isAppError } from '../../services/errors';
import { composeActivation, composeInvitation, recipientName } from '../../services/notifications/messages';

const user = { email: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace' };
const inviteUrl = 'https://app.example.test/invite?token=abc123';

describe('composeInvitation', () => {
  it('names the account in the subject and both bodies and carries the link in both', () => {
    const mail = composeInvitation({ accountName: 'Acme Corp', user, inviteUrl });
    expect(mail.subject).toBe("You're invited to join Acme Corp");
    expect(mail.text).toContain('Hello Ada,');
    expect(mail.text).toContain('You have been invited to join Acme Corp');
    expect(mail.text).toContain('ada@example.com');
    expect(mail.text).toContain(`\n${inviteUrl}\n`);
    expect(mail.html).toContain('Acme Corp');
    expect(mail.html).toContain(`href="${inviteUrl}"`);
  });

  it('says a reminder is a reminder, in the subject and both bodies, with the same link', () => {
    const mail = composeInvitation({ accountName: 'Acme Corp', user, inviteUrl, reminder: true });
    expect(mail.subject).toBe("Reminder: you're invited to join Acme Corp");
    expect(mail.text).toContain(
      'This is a reminder: you were invited to join Acme Corp and have not accepted yet.',
    );
    expect(mail.text).toContain(`\n${inviteUrl}\n`);
    expect(mail.html).toContain('This is a reminder');
    expect(composeInvitation({ accountName: 'Acme Corp', user, inviteUrl, reminder: false }).subject).toBe(
      "You're invited to join Acme Corp",
    );
  });

  it('greets without a name when the import gave none', () => {
    const mail = composeInvitation({ accountName: 'Acme', user: { email: 'x@example.com' }, inviteUrl });
    expect(mail.text.startsWith('Hello,\n')).toBe(true);
  });

  it('asks someone invited without a name (from an email list) to complete their profile', () => {
    const mail = composeInvitation({ accountName: 'Acme', user: { email: 'x@example.com' }, inviteUrl });
    expect(mail.text).toContain(
      'You have been invited to join Acme. You will sign in with x@example.com. So far we only have your ' +
        'email address: when you have accepted, please complete your profile with your name.',
    );
    expect(mail.html).toContain('please complete your profile with your name.');
    // Blank names are no names; a named person is not asked.
    const blank = composeInvitation({
      accountName: 'Acme',
      user: { email: 'x@example.com', firstName: ' ' },
      inviteUrl,
    });
    expect(blank.text).toContain('complete your profile');
    expect(composeInvitation({ accountName: 'Acme', user, inviteUrl }).text).not.toContain(
      'complete your profile',
    );
  });

  it('escapes every user-supplied value in the HTML body', () => {
    const mail = composeInvitation({
      accountName: 'R&D <b>Team</b>',
      user: {
        email: 'a"b@example.com',
        firstName: '<script>alert(1)</script>',
        lastName: '<img src=x onerror=alert(2)>',
      },
      inviteUrl,
    });
    expect(mail.html).not.toMatch(/<script|<img|<b>/i);
    expect(mail.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(mail.html).toContain('R&amp;D &lt;b&gt;Team&lt;/b&gt;');
    expect(mail.html).toContain('a&quot;b@example.com');
    // The plain-text body is not HTML, so it keeps the characters as they are.
    expect(mail.text).toContain('Hello <script>alert(1)</script>,');
  });

  it('keeps CR, LF and other control characters out of the subject and names', () => {
    const mail = composeInvitation({
      accountName: 'Acme\r\nBcc: intruder@evil.test\u0000',
      user: { email: 'ada@example.com', firstName: 'Ada\r\nX-Injected: 1', lastName: 'L\u202eovelace' },
      inviteUrl,
    });
    expect(mail.subject).toBe("You're invited to join Acme Bcc: intruder@evil.test");
    expect([...mail.subject].every((ch) => ch.charCodeAt(0) >= 0x20)).toBe(true);
    expect(mail.text).toContain('Hello Ada X-Injected: 1,');
    expect(recipientName({ email: 'a@b.c', firstName: 'Eve\r\nBcc: x@y', lastName: 'L\u202eovelace' })).toBe(
      'Eve Bcc: x@y L ovelace',
    );
  });

  it('refuses a link that is not http or https', () => {
    let caught: unknown;
    try {
      composeInvitation({ accountName: 'Acme', user, inviteUrl: 'javascript:alert(1)' });
    } catch (err) {
      caught = err;
    }
    expect(isAppError(caught, 'config-invalid')).toBe(true);
  });

  it('falls back to a neutral account label when the name is blank after cleaning', () => {
    expect(composeInvitation({ accountName: '\r\n ', user, inviteUrl }).subject).toBe(
      "You're invited to join your organization",
    );
  });
});

describe('composeActivation', () => {
  it('tells the user their account is active, naming the account', () => {
    const mail = composeActivation({ accountName: 'Acme Corp', user });
    expect(mail.subject).toBe('Your Acme Corp account is now active');
    expect(mail.text).toContain('your account with Acme Corp is now active');
    expect(mail.text).toContain('ada@example.com');
    expect(mail.html).not.toContain('<a ');
  });

  it('includes the sign-in link when there is one', () => {
    const mail = composeActivation({
      accountName: 'Acme',
      user,
      signInUrl: 'https://app.example.test/sign-in',
    });
    expect(mail.text).toContain('Sign in:\nhttps://app.example.test/sign-in');
    expect(mail.html).toContain('href="https://app.example.test/sign-in"');
  });

  it('escapes the name in the HTML body', () => {
    const mail = composeActivation({
      accountName: 'Acme',
      user: { ...user, firstName: '<script>x</script>' },
    });
    expect(mail.html).not.toContain('<script');
    expect(mail.html).toContain('Hello &lt;script&gt;x&lt;/script&gt;,');
  });
});
