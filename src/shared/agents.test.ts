import { type AgentsSettings, removeAgent, renameAgent, setToken } from './agents';

const unsaved: AgentsSettings = {
  jsonData: { agents: [{ name: 'w', url: 'http://a:7070' }] },
  secureJsonData: {},
  secureJsonFields: {},
};

describe('agents settings', () => {
  it('leaves no keys behind for names typed one letter at a time', () => {
    let settings = setToken(unsaved, 'w', 's3cret');
    for (const name of ['we', 'web', 'web-1']) {
      settings = renameAgent(settings, 0, name);
    }
    expect(settings.secureJsonData).toEqual({ 'token.web-1': 's3cret' });
    expect(settings.secureJsonFields).toEqual({});
  });

  it('keeps clearing a saved token through later renames', () => {
    const saved: AgentsSettings = { ...unsaved, secureJsonFields: { 'token.w': true } };
    const settings = renameAgent(renameAgent(saved, 0, 'x'), 0, 'w');
    expect(settings.secureJsonData).toEqual({ 'token.w': '' });
    expect(settings.secureJsonFields).toEqual({ 'token.w': false });
  });

  it('forgets the unsaved token of a removed agent', () => {
    const settings = removeAgent(setToken(unsaved, 'w', 's3cret'), 0);
    expect(settings.secureJsonData).toEqual({});
    expect(settings.jsonData.agents).toEqual([]);
  });
});
