import { ConversationState, MemoryStorage, TestAdapter, TurnContext } from 'botbuilder';
import { MongoStorage, StateConflictError } from '../../bot/storage/mongoStorage';
import { openTestDatabase, type TestDatabase } from '../support/testDatabase';

let t: TestDatabase;
beforeAll(async () => {
  t = await openTestDatabase();
});
afterAll(async () => t.close());

describe('MongoStorage', () => {
  it('returns nothing for keys it does not have', async () => {
    expect(await new MongoStorage(t.db).read(['nope', 'neither'])).toEqual({});
  });

  it('round-trips items with dotted and dollar keys and nested arrays, assigning a fresh eTag', async () => {
    const storage = new MongoStorage(t.db);
    const item = { 'dialog.stack': [[{ $type: 'prompt', n: 1 }]], name: 'Jane' };
    await storage.write({ a: item });
    const { a } = await storage.read(['a']);
    expect(a).toMatchObject(item);
    expect(typeof a?.eTag).toBe('string');
    await storage.write({ a: { ...a, name: 'Janet' } });
    const again = (await storage.read(['a'])).a;
    expect(again?.name).toBe('Janet');
    expect(again?.eTag).not.toBe(a?.eTag);
  });

  it('refuses a write based on a stale eTag, and lets * overwrite', async () => {
    const one = new MongoStorage(t.db);
    const two = new MongoStorage(t.db);
    await one.write({ c: { count: 1 } });
    const seenByOne = (await one.read(['c'])).c;
    const seenByTwo = (await two.read(['c'])).c;
    await two.write({ c: { ...seenByTwo, count: 2 } });
    await expect(one.write({ c: { ...seenByOne, count: 3 } })).rejects.toBeInstanceOf(StateConflictError);
    expect((await one.read(['c'])).c?.count).toBe(2);
    await one.write({ c: { count: 4, eTag: '*' } });
    expect((await two.read(['c'])).c?.count).toBe(4);
  });

  it('deletes items', async () => {
    const storage = new MongoStorage(t.db);
    await storage.write({ d1: { x: 1 }, d2: { x: 2 } });
    await storage.delete(['d1']);
    expect(Object.keys(await storage.read(['d1', 'd2']))).toEqual(['d2']);
  });

  it('keeps conversation state across turns like MemoryStorage does', async () => {
    const results: Array<number | undefined> = [];
    for (const storage of [new MemoryStorage(), new MongoStorage(t.db, 'conversationStateTest')]) {
      const state = new ConversationState(storage);
      const counter = state.createProperty<number>('count');
      const adapter = new TestAdapter(async (context: TurnContext) => {
        const count = (await counter.get(context, 0)) + 1;
        await counter.set(context, count);
        await context.sendActivity(`turn ${count}`);
        await state.saveChanges(context);
      });
      await adapter.send('hi').assertReply('turn 1').send('again').assertReply('turn 2').startTest();
      results.push(
        ((await storage.read(['test/conversations/Convo1/'])) as Record<string, { count?: number }>)[
          'test/conversations/Convo1/'
        ]?.count,
      );
    }
    expect(results).toEqual([2, 2]);
  });
});
