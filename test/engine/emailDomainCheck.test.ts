import {
  checkEmailDomain,
  COMMON_MAIL_DOMAINS,
  describeEmailFlag,
  editDistance,
} from '../../services/import/emailDomainCheck';

describe('editDistance (restricted Damerau-Levenshtein)', () => {
  it.each([
    ['gmail', 'gmail', 0],
    ['gmial', 'gmail', 1], // swapped neighbours
    ['yaho', 'yahoo', 1], // a letter missing
    ['gmaill', 'gmail', 1], // a letter too many
    ['gnail', 'gmail', 1], // a letter replaced
    ['hotmial', 'hotmail', 1],
    ['gogglemial', 'googlemail', 2],
    ['aol', 'msn', 3],
    ['', 'abc', 3],
  ])('%s → %s is %i', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
    expect(editDistance(b, a)).toBe(distance);
  });

  it('stops early above the limit, answering limit + 1', () => {
    expect(editDistance('abcdefgh', 'zyxwvuts', 1)).toBe(2);
    expect(editDistance('a', 'abcdef', 2)).toBe(3);
  });
});

describe('checkEmailDomain: likely typos of common mail domains', () => {
  it.each([
    ['jo@gmial.com', 'gmail.com'],
    ['jo@gmal.com', 'gmail.com'],
    ['jo@gamil.com', 'gmail.com'],
    ['jo@gmaill.com', 'gmail.com'],
    ['jo@gmail.co', 'gmail.com'],
    ['jo@gmail.con', 'gmail.com'],
    ['jo@gmail.cmo', 'gmail.com'],
    ['jo@gmail.comm', 'gmail.com'],
    ['jo@gmial.con', 'gmail.com'],
    ['jo@outlok.com', 'outlook.com'],
    ['jo@outlook.co', 'outlook.com'],
    ['jo@yaho.com', 'yahoo.com'],
    ['jo@yhaoo.com', 'yahoo.com'],
    ['jo@hotmial.com', 'hotmail.com'],
    ['jo@hotmail.con', 'hotmail.com'],
    ['jo@hotmial.co.uk', 'hotmail.co.uk'],
    ['jo@googlemial.com', 'googlemail.com'],
    ['jo@gogglemial.com', 'googlemail.com'], // two edits allowed for a name of 8+ letters
    ['jo@iclod.com', 'icloud.com'],
    ['jo@protonmial.com', 'protonmail.com'],
    ['jo@aol.con', 'aol.com'], // short names: only the ending may slip
    ['jo@comcast.ner', 'comcast.net'],
  ])('%s looks like a typo of %s', (email, suggestion) => {
    expect(checkEmailDomain(email)).toEqual({ kind: 'likely-typo', suggestion });
  });

  it('ignores case', () => {
    expect(checkEmailDomain('Jo.Smith@GMIAL.Com')).toEqual({ kind: 'likely-typo', suggestion: 'gmail.com' });
    expect(checkEmailDomain('JO@GMAIL.COM')).toBeUndefined();
  });

  it('never flags a common domain as written, however close to another one', () => {
    for (const domain of COMMON_MAIL_DOMAINS) expect(checkEmailDomain(`jo@${domain}`)).toBeUndefined();
  });

  it.each([
    // Company domains near nothing.
    'jo@acme.com',
    'jo@mail.acme.co.uk',
    'jo@contoso.onmicrosoft.com',
    'jo@example.org',
    // Real domains one edit from a short common name: short names are not matched by edits.
    'jo@aon.com',
    'jo@ms.com',
    'jo@ge.com',
    'jo@gm.com',
    'jo@mi.com',
    'jo@life.com',
    // Real domains that happen to be near a common one.
    'jo@cloud.com',
    'jo@verizon.com', // verizon.net's company, another ending entirely
    'jo@comcast.com',
    // Two country endings are not a slip of each other.
    'jo@hotmail.be',
    'jo@gmx.at',
    'jo@gmx.ch',
    'jo@yahoo.co.jp',
    // A subdomain of a common domain is not a typo of it.
    'jo@eu.gmail.com',
    // Three edits away.
    'jo@gxxxl.com',
  ])('does not flag %s', (email) => {
    expect(checkEmailDomain(email)).toBeUndefined();
  });

  it('answers undefined for an address without a domain', () => {
    expect(checkEmailDomain('nobody')).toBeUndefined();
  });
});

describe('checkEmailDomain: allowed domains', () => {
  const allowed = ['acme.com', 'acme.co.uk'];

  it('accepts the allowed domains and their subdomains, in any case', () => {
    expect(checkEmailDomain('jo@acme.com', allowed)).toBeUndefined();
    expect(checkEmailDomain('jo@ACME.CO.UK', allowed)).toBeUndefined();
    expect(checkEmailDomain('jo@eu.acme.com', allowed)).toBeUndefined();
    expect(checkEmailDomain('jo@mail.eu.acme.com', ['ACME.COM'])).toBeUndefined();
  });

  it('flags any other domain, common or not, naming the allowed ones', () => {
    expect(checkEmailDomain('jo@gmail.com', allowed)).toEqual({ kind: 'outside-allowed', allowed });
    expect(checkEmailDomain('jo@globex.com', allowed)).toEqual({ kind: 'outside-allowed', allowed });
    // A domain that merely ends with the same letters is not a subdomain.
    expect(checkEmailDomain('jo@notacme.com', allowed)).toEqual({ kind: 'outside-allowed', allowed });
    expect(checkEmailDomain('jo@acme.com.evil.io', allowed)).toEqual({ kind: 'outside-allowed', allowed });
  });

  it('suggests the allowed domain a near miss probably meant', () => {
    expect(checkEmailDomain('jo@acme.con', allowed)).toEqual({
      kind: 'outside-allowed',
      allowed,
      suggestion: 'acme.com',
    });
    expect(checkEmailDomain('jo@contsoso.com', ['contoso.com'])).toEqual({
      kind: 'outside-allowed',
      allowed: ['contoso.com'],
      suggestion: 'contoso.com',
    });
  });

  it('allows any domain when the list is empty, checking typos only', () => {
    expect(checkEmailDomain('jo@globex.com', [])).toBeUndefined();
    expect(checkEmailDomain('jo@gmial.com', [])).toEqual({ kind: 'likely-typo', suggestion: 'gmail.com' });
  });
});

describe('describeEmailFlag', () => {
  it('says what the flag means in words', () => {
    expect(describeEmailFlag('jo@gmial.com', { kind: 'likely-typo', suggestion: 'gmail.com' })).toBe(
      'gmial.com looks like a typo of gmail.com',
    );
    expect(
      describeEmailFlag('jo@globex.com', { kind: 'outside-allowed', allowed: ['acme.com', 'acme.co.uk'] }),
    ).toBe("globex.com is outside the account's allowed domains (acme.com, acme.co.uk)");
    expect(
      describeEmailFlag('jo@acme.con', {
        kind: 'outside-allowed',
        allowed: ['acme.com'],
        suggestion: 'acme.com',
      }),
    ).toBe("acme.con is outside the account's allowed domains (acme.com) and looks like a typo of acme.com");
  });
});
