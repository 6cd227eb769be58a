
import django.db.models.deletion
from django.db import migrations, models


def index_existing(apps, schema_editor):
    """Tokens of the groups that exist (the filing services keep them from now on)."""
    from backend.core.textsearch import tokens

    Group = apps.get_model("filings", "Group")
    Token = apps.get_model("filings", "GroupSearchToken")
    for group in Group.objects.iterator():
        Token.objects.bulk_create(
            [Token(token=t, owner_id=group.pk) for t in tokens([group.name, group.filing_number])]
        )


class Migration(migrations.Migration):

    dependencies = [
        ('filings', '0002_seed_work_calendar'),
    ]

    operations = [
        migrations.CreateModel(
            name='GroupSearchToken',
            fields=[
                ('token', models.BigIntegerField()),
                ('pk', models.CompositePrimaryKey('token', 'owner', blank=True, editable=False, primary_key=True, serialize=False)),
                ('owner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='filings.group')),
            ],
            options={
                'abstract': False,
            },
        ),
        migrations.RunPython(index_existing, migrations.RunPython.noop),
    ]
