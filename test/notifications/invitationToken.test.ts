import { createHash } from 'node:crypto';
import {
  hashInvitationToken,
  invitationLink,
  newInvitationToken,
} from '../../services/notifications/invitationToken';

describe('invitation tokens', () => {
  it('are random base64url strings whose stored hash is their sha256 hex', () => {
    const a = newInvitationToken();
    const b = newInvitationToken();
    expect(a.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.token).not.toBe(b.token);
    expect(a.tokenHash).toBe(createHash('sha256').update(a.token).digest('hex'));
    expect(hashInvitationToken(a.token)).toBe(a.tokenHash);
  });

  it('are added to a base URL that has no query string', () => {
    expect(invitationLink('https://app.example.test/invite', 'tok')).toBe(
      'https://app.example.test/invite?token=tok',
    );
  });

  it('keep an existing query string and fragment, replacing any token already there', () => {
    expect(invitationLink('https://app.example.test/invite?lang=fr&token=old#start', 'new')).toBe(
      'https://app.example.test/invite?lang=fr&token=new#start',
    );
  });
});
