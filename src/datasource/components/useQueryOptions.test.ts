import type { DataSource } from '../datasource';
import { loadQueryOptions } from './useQueryOptions';

const fake = (getResource: jest.Mock) => ({ getResource }) as unknown as Pick<DataSource, 'getResource'>;

describe('loadQueryOptions', () => {
  it('reads the options resource and fills what an older backend leaves out', async () => {
    const getResource = jest.fn().mockResolvedValue({ services: ['shop'] });
    await expect(loadQueryOptions(fake(getResource))).resolves.toEqual({
      agents: [],
      services: ['shop'],
      pools: [],
      failed: undefined,
    });
    expect(getResource).toHaveBeenCalledWith('options');
  });

  it('asks once for editors opened together', async () => {
    const datasource = fake(jest.fn().mockResolvedValue({ agents: [], services: [], pools: [] }));
    await Promise.all([loadQueryOptions(datasource), loadQueryOptions(datasource)]);
    await loadQueryOptions(datasource);
    expect(datasource.getResource).toHaveBeenCalledTimes(1);
  });

  it('does not keep a failed answer', async () => {
    const getResource = jest
      .fn()
      .mockRejectedValueOnce(new Error('agent down'))
      .mockResolvedValue({ agents: ['web-1'], services: [], pools: [] });
    const datasource = fake(getResource);
    await expect(loadQueryOptions(datasource)).rejects.toThrow('agent down');
    await expect(loadQueryOptions(datasource)).resolves.toMatchObject({ agents: ['web-1'] });
    expect(getResource).toHaveBeenCalledTimes(2);
  });
});
