
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def index_existing(apps, schema_editor):
    """Tokens and grid cells for the activities that exist (backend.volunteers.search keeps them
    from now on)."""
    from backend.core.geo import geocell
    from backend.core.textsearch import tokens

    Activity = apps.get_model("volunteers", "Activity")
    Token = apps.get_model("volunteers", "ActivitySearchToken")
    for activity in Activity.objects.select_related("post").iterator():
        post = activity.post
        if post is not None and post.latitude is not None and post.longitude is not None:
            lat, lon = float(post.latitude), float(post.longitude)
            Activity.objects.filter(pk=activity.pk).update(latitude=lat, longitude=lon, geocell=geocell(lat, lon))
        Token.objects.bulk_create(
            [Token(token=t, owner_id=activity.pk) for t in tokens([activity.title, activity.description])]
        )


class Migration(migrations.Migration):

    dependencies = [
        ('divisions', '0001_initial'),
        ('rivers', '0002_patrols_issues'),
        ('volunteers', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ActivitySearchToken',
            fields=[
                ('token', models.BigIntegerField()),
                ('pk', models.CompositePrimaryKey('token', 'owner', blank=True, editable=False, primary_key=True, serialize=False)),
                ('owner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='volunteers.activity')),
            ],
            options={
                'abstract': False,
            },
        ),
        migrations.AddField(
            model_name='activity',
            name='geocell',
            field=models.IntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='activity',
            name='latitude',
            field=models.FloatField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='activity',
            name='longitude',
            field=models.FloatField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name='activity',
            index=models.Index(fields=['geocell'], name='activity_geocell'),
        ),
        migrations.RunPython(index_existing, migrations.RunPython.noop),
    ]
