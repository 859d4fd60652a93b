import React from 'react';
import { fireEvent, render, screen } from '@testing-library/react';
import { RequestFilterForm } from './RequestFilterForm';
import { DEFAULT_FILTERS } from './requestFilters';

function setup(value = DEFAULT_FILTERS) {
  const onChange = jest.fn();
  render(<RequestFilterForm value={value} onChange={onChange} />);
  return onChange;
}

function type(label: string, text: string, key = 'Enter') {
  const input = screen.getByLabelText(label);
  fireEvent.change(input, { target: { value: text } });
  if (key === 'blur') {
    fireEvent.blur(input);
  } else {
    fireEvent.keyDown(input, { key });
  }
}

it('applies a path prefix on Enter', () => {
  const onChange = setup();
  type('Path prefix', '/cart');
  expect(onChange).toHaveBeenCalledWith({ path: '/cart' });
});

it('applies a minimum duration when the field is left, reading a bare number as milliseconds', () => {
  const onChange = setup();
  type('Min duration', '250', 'blur');
  expect(onChange).toHaveBeenCalledWith({ minDuration: '250ms' });
});

it('says what is wrong with a status and does not apply it', () => {
  const onChange = setup();
  type('Status', '42');
  expect(onChange).not.toHaveBeenCalled();
  expect(screen.getByText('An HTTP status is a number from 100 to 599')).toBeInTheDocument();
  type('Status', '500');
  expect(onChange).toHaveBeenCalledWith({ status: 500 });
});

it('clears a status back to any', () => {
  const onChange = setup({ ...DEFAULT_FILTERS, status: 500 });
  expect(screen.getByLabelText('Status')).toHaveValue('500');
  type('Status', '');
  expect(onChange).toHaveBeenCalledWith({ status: undefined });
});

it('switches errors only, the order and the limit at once', () => {
  const onChange = setup();
  fireEvent.click(screen.getByLabelText('Errors only'));
  expect(onChange).toHaveBeenCalledWith({ errorsOnly: true });
  fireEvent.click(screen.getByLabelText('Newest'));
  expect(onChange).toHaveBeenCalledWith({ order: 'newest' });
  type('Limit', '100');
  expect(onChange).toHaveBeenCalledWith({ limit: 100 });
});

it('resets every filter', () => {
  const onChange = setup({ ...DEFAULT_FILTERS, path: '/x', errorsOnly: true });
  fireEvent.click(screen.getByRole('button', { name: /reset filters/i }));
  expect(onChange).toHaveBeenCalledWith(DEFAULT_FILTERS);
});

it('finds the requests where a PHP function was hot', () => {
  const onChange = setup();
  type('PHP function', 'App\\Cart::total');
  expect(onChange).toHaveBeenCalledWith({ function: 'App\\Cart::total' });
});
