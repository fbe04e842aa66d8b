'use client';

/** Asks for a name and colour once (with a random default) and lets the person change them later. */
import { useEffect, useState } from 'react';

import { IDENTITY_COLORS, initialsOf, type Identity } from '../lib/collab/identity';

export function IdentityEditor(props: { identity: Identity; isOpenInitially: boolean; onSave(identity: Identity): void }) {
  const [isOpen, setIsOpen] = useState(props.isOpenInitially);
  const [name, setName] = useState(props.identity.name);
  const [color, setColor] = useState(props.identity.color);
  useEffect(() => setIsOpen(props.isOpenInitially), [props.isOpenInitially]);
  useEffect(() => {
    setName(props.identity.name);
    setColor(props.identity.color);
  }, [props.identity]);

  if (!isOpen) {
    return (
      <button type="button" className="identity-button" aria-label="Change your name and colour" onClick={() => setIsOpen(true)}>
        <span className="avatar avatar-small" style={{ backgroundColor: props.identity.color }}>
          {initialsOf(props.identity.name)}
        </span>
        {props.identity.name}
      </button>
    );
  }
  return (
    <form
      className="identity-dialog"
      role="dialog"
      aria-label="Your name and colour"
      onSubmit={(event) => {
        event.preventDefault();
        if (!name.trim()) return;
        props.onSave({ name: name.trim(), color });
        setIsOpen(false);
      }}
    >
      <label>
        Your name
        <input value={name} maxLength={40} autoFocus onChange={(event) => setName(event.target.value)} />
      </label>
      <fieldset>
        <legend>Colour</legend>
        {IDENTITY_COLORS.map((option) => (
          <label key={option} className="color-option" style={{ backgroundColor: option }}>
            <input type="radio" name="color" value={option} checked={color === option} onChange={() => setColor(option)} aria-label={option} />
          </label>
        ))}
      </fieldset>
      <button type="submit">Save</button>
    </form>
  );
}
